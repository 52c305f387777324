//! Folding text for search: lower case, no diacritics (`Giải Ngân` → `giai ngan`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, strips combining marks and maps đ/Đ to d; whitespace runs become one space.
pub fn fold(text: &str) -> String {
    let stripped: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect();
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `LIKE` pattern that finds `query` (folded) anywhere, with LIKE's wildcards escaped by `\`.
pub fn like_pattern(query: &str) -> String {
    let folded = fold(query);
    let escaped = folded.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_folds_to_plain_letters() {
        assert_eq!(fold("Chậm GIẢI NGÂN vốn đầu tư công"), "cham giai ngan von dau tu cong");
        assert_eq!(fold("Đống Đa  —  Hoàn Kiếm"), "dong da — hoan kiem");
        assert_eq!(fold("nhũng nhiễu, phiền hà"), "nhung nhieu, phien ha");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("100%_x"), "%100\\%\\_x%");
    }
}
