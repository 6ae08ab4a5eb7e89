//! `template = "{notes} (legacy id {legacy_id})"`: literal text and `{column}` placeholders.

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// A source column's cell, by name (resolved to an index when compiled).
    Column(String),
}

/// Splits a template; `{{` and `}}` are literal braces. Errors name the problem.
pub(crate) fn parse(t: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("unclosed `{{{name}` in the template")),
                    }
                }
                if name.trim().is_empty() {
                    return Err("empty `{}` in the template (use `{{` for a brace)".to_owned());
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Column(name));
            }
            '}' => return Err("a lone `}` in the template (use `}}` for a brace)".to_owned()),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert_eq!(
            parse("{notes} (id {{{id}}})").unwrap(),
            vec![
                Piece::Column("notes".into()),
                Piece::Text(" (id {".into()),
                Piece::Column("id".into()),
                Piece::Text("})".into()),
            ]
        );
        assert!(parse("{open").is_err());
        assert!(parse("a } b").is_err());
        assert!(parse("{}").is_err());
    }
}
