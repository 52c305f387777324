//! The console's own stylesheet and script, compiled in and served under a name that
//! carries their content hash, so browsers may keep them for a year.

use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

use super::Fail;
use crate::error::Error;

const CSS: &[u8] = include_bytes!("../../templates/static/console.css");
const JS: &[u8] = include_bytes!("../../templates/static/console.js");

/// The assets' hashed names.
pub struct Assets {
    css: String,
    js: String,
}

fn hashed(stem: &str, ext: &str, bytes: &[u8]) -> String {
    format!("{stem}-{}.{ext}", &hex::encode(Sha256::digest(bytes))[..12])
}

impl Assets {
    pub fn new() -> Self {
        Assets { css: hashed("console", "css", CSS), js: hashed("console", "js", JS) }
    }

    pub fn css_path(&self) -> String {
        format!("/assets/{}", self.css)
    }

    pub fn js_path(&self) -> String {
        format!("/assets/{}", self.js)
    }
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

/// `GET /assets/{name}`: only the current names exist; each is immutable.
pub async fn serve(console: web::Data<super::Console>, name: web::Path<String>) -> Result<HttpResponse, Fail> {
    let (bytes, kind) = match name.as_str() {
        n if n == console.assets.css => (CSS, "text/css; charset=utf-8"),
        n if n == console.assets.js => (JS, "text/javascript; charset=utf-8"),
        _ => return Err(Fail(Error::NotFound)),
    };
    Ok(HttpResponse::Ok()
        .content_type(kind)
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(bytes))
}
