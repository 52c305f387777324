//! A test app described before it starts: its settings, units, users and mail.
//!
//! ```ignore
//! let Started { app, units, users, .. } = TestApp::builder()
//!     .with_unit("HN", "Hà Nội", "city", None)
//!     .with_user("quantri", Role::Admin, None)
//!     .with_user("ubkt.hn", Role::Reviewer, Some("HN"))
//!     .spawn()
//!     .await;
//! ```

use std::collections::HashMap;

use casetrack::config::Settings;
use casetrack::domain::role::Role;
use casetrack::mail::Mailer;
use casetrack::model::unit::Unit;
use secrecy::SecretString;

use super::smtp::SmtpSink;
use super::{Login, TestApp, spawn_with};

/// A change to the settings, made before the server starts.
type Tune = Box<dyn FnOnce(&mut Settings) + Send>;

/// What a test asks of its app before it starts ([`TestApp::builder`]).
#[derive(Default)]
pub struct AppBuilder {
    tunes: Vec<Tune>,
    units: Vec<(String, String, String, Option<String>)>,
    users: Vec<(String, Role, Option<String>)>,
    smtp: bool,
}

/// A running app with what its builder asked for.
pub struct Started {
    pub app: TestApp,
    /// The units made, by code.
    pub units: HashMap<String, Unit>,
    /// The users made and signed in, by username.
    pub users: HashMap<String, Login>,
    /// The loopback SMTP server the jobs deliver to, with [`AppBuilder::with_mail`].
    pub smtp: Option<SmtpSink>,
}

impl AppBuilder {
    /// Adjusts the settings before the server starts (several run in order).
    pub fn tune(mut self, f: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        self.tunes.push(Box::new(f));
        self
    }

    /// A unit made before the users, under the unit with code `parent` (made earlier).
    pub fn with_unit(mut self, code: &str, name: &str, kind: &str, parent: Option<&str>) -> Self {
        self.units.push((code.into(), name.into(), kind.into(), parent.map(str::to_string)));
        self
    }

    /// A user with [`super::PASSWORD`], in the unit with code `unit`, signed in once the
    /// server runs.
    pub fn with_user(mut self, username: &str, role: Role, unit: Option<&str>) -> Self {
        self.users.push((username.into(), role, unit.map(str::to_string)));
        self
    }

    /// [`TestApp::run_jobs`] delivers over a real SMTP conversation with a server on
    /// loopback ([`Started::smtp`]) instead of keeping the mail in memory.
    pub fn with_mail(mut self) -> Self {
        self.smtp = true;
        self
    }

    /// Starts the server, makes the units and users, and signs the users in at once.
    pub async fn spawn(self) -> Started {
        let smtp = if self.smtp { Some(SmtpSink::start().await) } else { None };
        let url = smtp.as_ref().map(SmtpSink::url);
        let tunes = self.tunes;
        let mut app = spawn_with(move |s| {
            if let Some(url) = url {
                s.mail.transport = "smtp".into();
                s.mail.smtp_url = Some(SecretString::from(url));
            }
            for tune in tunes {
                tune(s);
            }
        })
        .await;
        if smtp.is_some() {
            app.mail = Mailer::from_settings(&app.state.settings.mail).expect("the SMTP mailer");
        }
        let mut units: HashMap<String, Unit> = HashMap::new();
        for (code, name, kind, parent) in &self.units {
            let parent =
                parent.as_ref().map(|p| units.get(p).unwrap_or_else(|| panic!("unit {p} is made before {code}")));
            let unit = app.unit(code, name, kind, parent);
            units.insert(code.clone(), unit);
        }
        let unit_of = |code: &Option<String>| {
            code.as_ref().map(|c| units.get(c).unwrap_or_else(|| panic!("unit {c} is made before its users")))
        };
        let logins = futures_util::future::join_all(
            self.users.iter().map(|(username, role, unit)| app.signed_in(username, *role, unit_of(unit))),
        )
        .await;
        let users = self.users.iter().map(|(username, ..)| username.clone()).zip(logins).collect();
        Started { app, units, users, smtp }
    }
}
