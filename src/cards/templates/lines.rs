//! Line numbers in template files. A template is a TOML string value, so a line inside a
//! template (which is what minijinja reports) is a line of the file only after adding where the
//! value starts and undoing what TOML's quoting did to its newlines.

use std::ops::Range;

use super::Problem;

/// Turns places in one file into [`Problem`]s that name the file and the line.
pub(super) struct FileLines<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl FileLines<'_> {
    /// The line of `span`, or of line `template_line` of the template the span holds.
    pub(super) fn line(&self, span: &Range<usize>, template_line: Option<usize>) -> usize {
        let start = line_at(self.text, span.start);
        match template_line {
            Some(line) => start + lines_before(self.text.get(span.clone()).unwrap_or(""), line),
            None => start,
        }
    }

    pub(super) fn problem(
        &self,
        line: Option<usize>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> Problem {
        Problem {
            file: self.file.to_owned(),
            line,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// The 1-based line of the byte at `offset` in `text`.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// How many lines of the file lie between the start of the string literal `raw` (its quotes
/// included, as in the file) and the start of line `line` (1-based) of the string's value.
///
/// The two differ when TOML drops the newline right after an opening `"""` or `'''`, when a
/// basic string writes a newline as an escape (`\n`, `\u000A`), and when a line-ending backslash
/// joins lines of the file into one line of the value.
pub(super) fn lines_before(raw: &str, line: usize) -> usize {
    let (body, basic, multi_line) = if let Some(body) = strip(raw, "\"\"\"") {
        (body, true, true)
    } else if let Some(body) = strip(raw, "'''") {
        (body, false, true)
    } else if let Some(body) = strip(raw, "\"") {
        (body, true, false)
    } else if let Some(body) = strip(raw, "'") {
        (body, false, false)
    } else {
        return 0;
    };
    let bytes = body.as_bytes();
    let mut file_lines = 0;
    let mut value_lines = 1;
    let mut i = 0;
    if multi_line {
        if bytes.starts_with(b"\n") {
            (i, file_lines) = (1, 1);
        } else if bytes.starts_with(b"\r\n") {
            (i, file_lines) = (2, 1);
        }
    }
    while i < bytes.len() && value_lines < line {
        match bytes[i] {
            b'\n' => {
                file_lines += 1;
                value_lines += 1;
                i += 1;
            }
            b'\\' if basic => {
                let escape = bytes.get(i + 1).copied().unwrap_or(b'\\');
                match escape {
                    b'n' => {
                        value_lines += 1;
                        i += 2;
                    }
                    b'u' | b'U' | b'x' => {
                        let digits = match escape {
                            b'u' => 4,
                            b'U' => 8,
                            _ => 2,
                        };
                        let hex = body.get(i + 2..i + 2 + digits).unwrap_or("");
                        if u32::from_str_radix(hex, 16) == Ok(u32::from(b'\n')) {
                            value_lines += 1;
                        }
                        i += 2 + digits;
                    }
                    b' ' | b'\t' | b'\r' | b'\n' if multi_line => {
                        // A line-ending backslash: it and all whitespace after it vanish.
                        i += 1;
                        while let Some(&b) = bytes.get(i) {
                            match b {
                                b'\n' => file_lines += 1,
                                b' ' | b'\t' | b'\r' => {}
                                _ => break,
                            }
                            i += 1;
                        }
                    }
                    _ => i += 2,
                }
            }
            _ => i += 1,
        }
    }
    file_lines
}

fn strip<'a>(raw: &'a str, quote: &str) -> Option<&'a str> {
    raw.strip_prefix(quote)?.strip_suffix(quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_at_counts_from_one() {
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 2), 2);
        assert_eq!(line_at("a\nb\nc", 4), 3);
        assert_eq!(line_at("a\nb\nc", 99), 3);
    }

    #[test]
    fn first_line_of_a_value_is_where_the_literal_starts() {
        assert_eq!(lines_before("\"abc\"", 1), 0);
        assert_eq!(lines_before("'''abc'''", 1), 0);
    }

    #[test]
    fn newline_after_opening_delimiter_is_not_part_of_the_value() {
        assert_eq!(lines_before("\"\"\"\nabc\ndef\"\"\"", 1), 1);
        assert_eq!(lines_before("\"\"\"\nabc\ndef\"\"\"", 2), 2);
        assert_eq!(lines_before("'''\r\nabc\r\ndef'''", 2), 2);
        assert_eq!(lines_before("'''abc\ndef'''", 2), 1);
    }

    #[test]
    fn escaped_newlines_stay_on_one_file_line() {
        assert_eq!(lines_before("\"a\\nb\\nc\"", 3), 0);
        assert_eq!(lines_before("\"a\\u000Ab\"", 2), 0);
        // In a literal string a backslash is just a backslash.
        assert_eq!(lines_before("'''a\\nb\nc'''", 2), 1);
    }

    #[test]
    fn line_ending_backslash_joins_file_lines() {
        // Value: "a b\nc": its line 2 is on the fourth line of the literal.
        let raw = "\"\"\"\na \\\n   b\nc\"\"\"";
        assert_eq!(lines_before(raw, 2), 3);
    }
}
