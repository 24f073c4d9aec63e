//! A markdown body built line by line and fitted to a length limit: plain lines are cut with "…",
//! lines with markup are kept whole or left out, so fitting never breaks a tag or a link.

use super::limits::Unit;

#[derive(Debug, Clone)]
enum Line {
    /// Plain text (a leading marker such as `> ` or `**key:**` survives a cut at the end).
    Text(String),
    /// Markup that a cut would break: all or nothing.
    Markup(String),
}

/// Lines joined by a separator.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    lines: Vec<Line>,
    separator: &'static str,
}

impl Body {
    pub(crate) fn new(separator: &'static str) -> Self {
        Self {
            lines: Vec::new(),
            separator,
        }
    }

    /// A line that may be cut at its end.
    pub(crate) fn text(&mut self, line: impl Into<String>) {
        self.lines.push(Line::Text(line.into()));
    }

    /// A line kept whole or not at all.
    pub(crate) fn markup(&mut self, line: impl Into<String>) {
        self.lines.push(Line::Markup(line.into()));
    }

    /// The lines in order, within `max` `unit`s: lines are added while they fit; the first that
    /// does not is cut if it is plain text, and nothing after it is added.
    pub(crate) fn render(&self, max: usize, unit: Unit) -> String {
        let mut out = String::new();
        let mut used = 0;
        for line in &self.lines {
            let separator = if out.is_empty() { "" } else { self.separator };
            let (Line::Text(text) | Line::Markup(text)) = line;
            let needed = unit.len(separator) + unit.len(text);
            if used + needed <= max {
                out.push_str(separator);
                out.push_str(text);
                used += needed;
                continue;
            }
            let room = max.saturating_sub(used + unit.len(separator));
            if matches!(line, Line::Text(_)) && room >= min_cut(unit) {
                out.push_str(separator);
                out.push_str(&unit.truncate(text, room));
            }
            break;
        }
        out
    }
}

/// The least room worth cutting a line into: one character and the ellipsis.
fn min_cut(unit: Unit) -> usize {
    match unit {
        Unit::Chars => 2,
        Unit::Bytes => 4,
    }
}

/// `text` on one line, for fields whose markup a line break would end early.
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Body {
        let mut body = Body::new("\n");
        body.markup("**标题**");
        body.text("第一行说明文字");
        body.markup("[link](https://example.com/x)");
        body
    }

    #[test]
    fn everything_fits_within_a_large_limit() {
        assert_eq!(
            body().render(1000, Unit::Chars),
            "**标题**\n第一行说明文字\n[link](https://example.com/x)"
        );
    }

    #[test]
    fn the_first_plain_line_that_overflows_is_cut_and_ends_the_body() {
        // 6 chars of title, 1 separator, then 5 chars of room for the text line.
        assert_eq!(body().render(12, Unit::Chars), "**标题**\n第一行说…");
        let bytes = body().render(20, Unit::Bytes);
        assert!(bytes.len() <= 20);
        assert!(bytes.ends_with('…'), "{bytes}");
    }

    #[test]
    fn markup_that_does_not_fit_is_left_out_whole() {
        let text = body().render(20, Unit::Chars);
        assert_eq!(text, "**标题**\n第一行说明文字");
        assert_eq!(body().render(5, Unit::Chars), "");
    }
}
