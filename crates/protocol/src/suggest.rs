//! "Did you mean" suggestions for names a person typed (fields, columns, modules, steps).

/// The candidate closest to `wanted`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = wanted.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&w, &c.to_lowercase());
        if score > best.map_or(0.0, |b| b.0) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.8).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn typos_find_their_field() {
        let fields = ["Last Name", "First Name", "Email", "Company"];
        assert_eq!(did_you_mean("Last name", fields), Some("Last Name"));
        assert_eq!(did_you_mean("Emial", fields), Some("Email"));
        assert_eq!(did_you_mean("Zzzzzz", fields), None);
    }
}
