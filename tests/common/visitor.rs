//! A person at the console, as a browser would be for the server: cookies kept, redirects
//! shown rather than followed, forms posted with the CSRF token the page carries.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::{PASSWORD, TestApp};

/// A page (or redirect) as received.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    }

    pub fn location(&self) -> Option<String> {
        self.header("location")
    }

    /// The value of the first hidden `_csrf` field.
    pub fn csrf(&self) -> String {
        let at = self.html.find("name=\"_csrf\" value=\"").expect("page has a CSRF field") + 20;
        self.html[at..].split('"').next().unwrap().to_string()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; page: {}", self.html);
        self
    }

    /// The page with the one entity the templates' escaping writes for plain text (`/`) read back.
    pub fn text(&self) -> String {
        self.html.replace("&#x2f;", "/")
    }

    #[track_caller]
    pub fn contains(&self, text: &str) -> &Self {
        assert!(self.text().contains(text), "page lacks {text:?}: {}", self.html);
        self
    }
}

pub struct Visitor {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Visitor { base: app.base.clone(), http, cookies: Mutex::new(BTreeMap::new()) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let res = req.header("cookie", self.cookie_header()).send().await.expect("request sent");
        let (status, headers) = (res.status(), res.headers().clone());
        let html = res.text().await.unwrap_or_default();
        let page = Page { status, headers, html };
        let mut jar = self.cookies.lock().unwrap();
        for line in page.set_cookies() {
            let pair = line.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() || line.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// [`Visitor::post`] with extra request headers.
    pub async fn post_with(&self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).multipart(form)).await
    }

    /// Signs in through the form (coming back to `next`); returns the answer to the post.
    pub async fn sign_in_to(&self, username: &str, password: &str, next: &str) -> Page {
        let form = self
            .get(&format!("/sign-in?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()))
            .await;
        let csrf = form.csrf();
        self.post("/sign-in", &[("_csrf", &csrf), ("next", next), ("username", username), ("password", password)]).await
    }

    /// A visitor signed in as `username` (with the test password).
    pub async fn signed_in(app: &TestApp, username: &str) -> Visitor {
        let v = Visitor::new(app);
        let r = v.sign_in_to(username, PASSWORD, "/").await;
        assert_eq!(r.status.as_u16(), 303, "sign-in failed: {}", r.html);
        v
    }

    /// The CSRF token of the visitor's session (read off a page).
    pub async fn csrf(&self) -> String {
        self.get("/account/password").await.csrf()
    }
}
