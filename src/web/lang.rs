//! The reader's language, as a request's `Accept-Language` names it.

use crate::i18n::Lang;

/// The language a request's `Accept-Language` prefers most among ours; Vietnamese
/// when it names none of them or is absent.
pub fn preferred(req: &impl actix_web::HttpMessage) -> Lang {
    use actix_web::http::header::{AcceptLanguage, Header, Preference};
    let Ok(accept) = AcceptLanguage::parse(req) else { return Lang::Vi };
    accept
        .ranked()
        .into_iter()
        .find_map(|p| match p {
            Preference::Specific(tag) => Lang::parse(&tag.primary_language().to_ascii_lowercase()),
            Preference::Any => Some(Lang::Vi),
        })
        .unwrap_or(Lang::Vi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_asked_for_is_spoken() {
        let asking = |v: &str| {
            let req = actix_web::test::TestRequest::default().insert_header(("accept-language", v)).to_http_request();
            preferred(&req)
        };
        assert_eq!(preferred(&actix_web::test::TestRequest::default().to_http_request()), Lang::Vi);
        assert_eq!(asking("en"), Lang::En);
        assert_eq!(asking("en-US,en;q=0.9,vi;q=0.8"), Lang::En);
        assert_eq!(asking("vi-VN,vi;q=0.9,en;q=0.8"), Lang::Vi);
        assert_eq!(asking("de, en;q=0.5"), Lang::En);
        assert_eq!(asking("de"), Lang::Vi);
        assert_eq!(asking("en;q=0, vi"), Lang::Vi);
        assert_eq!(asking("*"), Lang::Vi);
    }
}
