//! File names of downloaded attachments, safe on any OS.

/// The longest a made-safe name may be, in bytes (with the `<attachment id>-` prefix the file
/// name stays under the 255 bytes most file systems allow).
const MAX_NAME_BYTES: usize = 200;

/// `name` made safe as one path component on Linux, macOS and Windows: path separators, the
/// characters Windows forbids (`< > : " | ? *`) and control characters become `_`; `..` never
/// occurs (each becomes `._`); trailing dots and spaces (Windows drops them) become `_`; the
/// name is cut to 200 bytes at a character boundary, keeping a short extension; an empty name
/// is `file`.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", "._");
    }
    if out.ends_with(['.', ' ']) {
        out.pop();
        out.push('_');
    }
    if out.len() > MAX_NAME_BYTES {
        out = shorten(&out);
    }
    if out.is_empty() { "file".to_owned() } else { out }
}

/// `name` cut to [`MAX_NAME_BYTES`], its extension kept when it is short.
fn shorten(name: &str) -> String {
    let ext = name.rfind('.').map(|i| &name[i..]).filter(|e| e.len() <= 16).unwrap_or("");
    let mut keep = MAX_NAME_BYTES - ext.len();
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{ext}", &name[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_or_break_a_folder_are_made_safe() {
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), ".__.__etc_passwd");
        assert_eq!(safe_file_name(".."), "._");
        assert_eq!(safe_file_name("a\\b/c"), "a_b_c");
        assert_eq!(safe_file_name("tab\there\nnew"), "tab_here_new");
        assert_eq!(safe_file_name("C:\\x?.txt"), "C__x_.txt");
        assert_eq!(safe_file_name("trailing. "), "trailing._");
        assert_eq!(safe_file_name(""), "file");
        assert_eq!(safe_file_name("é…"), "é…");
        for n in ["../x", "..", "...", "a/../b", "....//", "\u{0}"] {
            let s = safe_file_name(n);
            assert!(!s.contains("..") && !s.contains('/') && !s.contains('\\'), "{n:?} → {s:?}");
            assert!(!s.is_empty());
        }
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.docx", "é".repeat(300));
        let s = safe_file_name(&long);
        assert!(s.len() <= MAX_NAME_BYTES, "{}", s.len());
        assert!(s.ends_with(".docx"));
    }
}
