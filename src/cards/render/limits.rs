//! Cutting text to a platform's length limit: at a character boundary, ending with "…", so an
//! over-long value is shortened rather than rejected at send time.
//!
//! URLs, callback keys and other identifiers are never cut: a cut one would lead nowhere or not
//! be recognised when it comes back. Renderers drop those instead (see [`fits_bytes`]).

use serde::Serialize;

/// What a cut value ends with: one character, three bytes in UTF-8.
pub const ELLIPSIS: char = '…';

/// `s` if it has at most `max` characters, otherwise its first `max - 1` characters and "…"
/// (less any whitespace the cut leaves before it).
///
/// The result never has more than `max` characters; with `max` 0 it is empty and with `max` 1
/// it is "…" alone.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some(_) if max == 0 => String::new(),
        Some(_) => {
            // The byte offset of the character that makes room for the ellipsis.
            let cut = s.char_indices().nth(max - 1).map_or(s.len(), |(at, _)| at);
            with_ellipsis(&s[..cut])
        }
    }
}

/// `s` if it is at most `max_bytes` long in UTF-8, otherwise its longest prefix that ends on a
/// character boundary and leaves room for "…" (3 bytes), followed by "…".
///
/// Below 3 bytes there is no room for the ellipsis: the result is then the longest whole-character
/// prefix that fits, possibly empty.
pub fn truncate_bytes(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_owned();
    }
    let ellipsis = ELLIPSIS.len_utf8();
    if max_bytes < ellipsis {
        return s[..s.floor_char_boundary(max_bytes)].to_owned();
    }
    with_ellipsis(&s[..s.floor_char_boundary(max_bytes - ellipsis)])
}

/// The kept part and the ellipsis, without the space a cut may leave before it.
fn with_ellipsis(kept: &str) -> String {
    let kept = kept.trim_end();
    let mut out = String::with_capacity(kept.len() + ELLIPSIS.len_utf8());
    out.push_str(kept);
    out.push(ELLIPSIS);
    out
}

/// Whether `s` has at most `max` characters, without counting past `max`.
pub fn fits_chars(s: &str, max: usize) -> bool {
    s.chars().nth(max).is_none()
}

/// `s` when it is at most `max_bytes` long, `None` otherwise: for values that must arrive whole
/// or not at all (URLs, keys).
pub fn fits_bytes(s: &str, max_bytes: usize) -> Option<&str> {
    (s.len() <= max_bytes).then_some(s)
}

/// How a platform counts a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values ("characters" in the docs).
    Chars,
    /// UTF-8 bytes.
    Bytes,
}

impl Unit {
    /// The length of `s` in this unit.
    pub fn len(self, s: &str) -> usize {
        match self {
            Self::Chars => s.chars().count(),
            Self::Bytes => s.len(),
        }
    }

    /// `s` cut to `max` of this unit, see [`truncate_chars`] and [`truncate_bytes`].
    pub fn truncate(self, s: &str, max: usize) -> String {
        match self {
            Self::Chars => truncate_chars(s, max),
            Self::Bytes => truncate_bytes(s, max),
        }
    }
}

/// How many of `items`, from the first, fit in `max` `unit`s as a JSON array: for list values
/// that are shortened by whole items rather than cut inside their JSON.
pub fn json_prefix_len<T: Serialize>(items: &[T], max: usize, unit: Unit) -> usize {
    // "[" and "]", then each item and the comma before all but the first.
    let mut used = 2;
    for (count, item) in items.iter().enumerate() {
        let Ok(json) = serde_json::to_string(item) else {
            return count;
        };
        used += unit.len(&json) + usize::from(count > 0);
        if used > max {
            return count;
        }
    }
    items.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_returned_unchanged() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("", 0), "");
        assert_eq!(truncate_bytes("abc", 3), "abc");
        assert_eq!(truncate_bytes("中", 3), "中");
    }

    #[test]
    fn long_text_is_cut_to_the_char_limit_with_an_ellipsis() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("折扣审批申请", 4), "折扣审…");
        assert_eq!(truncate_chars("折扣审批申请", 4).chars().count(), 4);
        assert_eq!(truncate_chars("Approved by Li Lei", 13), "Approved by…");
        assert_eq!(truncate_bytes("Approved by Li Lei", 15), "Approved by…");
    }

    #[test]
    fn char_limits_of_zero_and_one_leave_nothing_or_the_ellipsis() {
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("abc", 1), "…");
        assert_eq!(truncate_chars("a", 1), "a");
    }

    #[test]
    fn byte_cut_lands_on_a_char_boundary_and_counts_the_ellipsis() {
        // "折扣审批" is 12 bytes; 10 bytes leave 7 for text, which holds two whole characters.
        let cut = truncate_bytes("折扣审批", 10);
        assert_eq!(cut, "折扣…");
        assert!(cut.len() <= 10);
        assert_eq!(truncate_bytes("abcdef", 5), "ab…");
        // A 4-byte character is kept whole or not at all.
        assert_eq!(truncate_bytes("😀😀", 7), "😀…");
        assert_eq!(truncate_bytes("😀😀", 6), "…");
    }

    #[test]
    fn byte_limits_below_the_ellipsis_keep_only_whole_characters() {
        assert_eq!(truncate_bytes("abc", 0), "");
        assert_eq!(truncate_bytes("abcd", 1), "a");
        assert_eq!(truncate_bytes("abcd", 2), "ab");
        assert_eq!(truncate_bytes("中文", 2), "");
    }

    #[test]
    fn every_byte_limit_is_respected_for_mixed_text() {
        let text = "ACME 折扣 15% 😀 approval";
        for max in 0..text.len() + 2 {
            let cut = truncate_bytes(text, max);
            assert!(cut.len() <= max, "{max}: {cut:?}");
            if text.len() > max && max >= 3 {
                assert!(cut.ends_with(ELLIPSIS), "{max}: {cut:?}");
            }
        }
        for max in 0..text.chars().count() + 2 {
            assert!(truncate_chars(text, max).chars().count() <= max);
        }
    }

    #[test]
    fn a_json_list_keeps_the_items_that_fit_whole() {
        let items = ["ab", "中文", "cd"];
        // ["ab","中文","cd"] is 16 chars and 20 bytes; ["ab","中文"] is 11 and 15.
        assert_eq!(json_prefix_len(&items, 16, Unit::Chars), 3);
        assert_eq!(json_prefix_len(&items, 15, Unit::Chars), 2);
        assert_eq!(json_prefix_len(&items, 19, Unit::Bytes), 2);
        assert_eq!(json_prefix_len(&items, 20, Unit::Bytes), 3);
        assert_eq!(json_prefix_len(&items, 5, Unit::Bytes), 0);
        assert_eq!(serde_json::to_string(&items[..2]).unwrap().len(), 15);
    }

    #[test]
    fn fits_checks_without_cutting() {
        assert!(fits_chars("中文", 2));
        assert!(!fits_chars("中文", 1));
        assert_eq!(
            fits_bytes("https://a.example", 17),
            Some("https://a.example")
        );
        assert_eq!(fits_bytes("https://a.example", 16), None);
    }
}
