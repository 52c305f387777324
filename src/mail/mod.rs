//! Email: one `Mailer` over lettre's SMTP, file or in-memory transport, and the alert
//! templates.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::stub::AsyncStubTransport;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Environment;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::MailSettings;

/// Where mail goes: an SMTP server, .eml files in a folder (the embedded default), or
/// memory (tests and the benchmark).
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    /// The most one message may take.
    send_timeout: Duration,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Memory(AsyncStubTransport),
}

impl Mailer {
    /// Builds the transport `mail.transport` names (settings are validated at startup).
    pub fn from_settings(mail: &MailSettings) -> Result<Mailer, String> {
        let transport = match mail.transport.as_str() {
            "smtp" => {
                let url = mail.smtp_url.as_ref().ok_or("configuration key `mail.smtp_url`: is required")?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| format!("configuration key `mail.smtp_url`: {e}"))?
                    .timeout(Some(Duration::from_secs(mail.timeout_secs)))
                    .build();
                Transport::Smtp(transport)
            }
            _ => {
                std::fs::create_dir_all(&mail.outbox_dir)
                    .map_err(|e| format!("configuration key `mail.outbox_dir`: cannot create it: {e}"))?;
                Transport::File(AsyncFileTransport::new(&mail.outbox_dir))
            }
        };
        Ok(Mailer { transport, send_timeout: Duration::from_secs(mail.send_timeout_secs) })
    }

    /// A mailer that keeps every message in memory; its clones share what was sent, which
    /// [`Mailer::sent`] reads back.
    pub fn memory() -> Mailer {
        Mailer { transport: Transport::Memory(AsyncStubTransport::new_ok()), send_timeout: Duration::from_secs(30) }
    }

    /// What a memory mailer sent, oldest first: each message's recipients and its raw
    /// text. Nothing for the other transports, whose mail has left.
    pub async fn sent(&self) -> Vec<(Vec<String>, String)> {
        let Transport::Memory(t) = &self.transport else { return Vec::new() };
        t.messages()
            .await
            .into_iter()
            .map(|(envelope, raw)| (envelope.to().iter().map(|a| a.to_string()).collect(), raw))
            .collect()
    }

    /// Sends one message, giving up after `mail.send_timeout_secs`; the error text is safe
    /// to store and show to administrators.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        let sending = async {
            match &self.transport {
                Transport::Smtp(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
                Transport::File(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
                Transport::Memory(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
            }
        };
        match tokio::time::timeout(self.send_timeout, sending).await {
            Ok(done) => done,
            Err(_) => Err(format!("the mail server did not finish within {} s", self.send_timeout.as_secs())),
        }
    }
}

/// One case line of an alert message.
#[derive(Debug, Serialize)]
pub struct AlertItem {
    pub level_label: String,
    pub number: String,
    pub title: String,
    pub subject: String,
    pub unit: String,
    pub deadline: String,
    pub days_overdue: i64,
    pub link: String,
}

/// The rendered alert: subject, plain text and HTML.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_template("alert_digest.txt", include_str!("../../templates/alert_digest.txt"))
        .expect("text template parses");
    env.add_template("alert_digest.html", include_str!("../../templates/alert_digest.html"))
        .expect("html template parses");
    env.add_template("checkpoint_mail.txt", include_str!("../../templates/checkpoint_mail.txt"))
        .expect("checkpoint template parses");
    env
}

/// What a mailed checkpoint says.
#[derive(Debug, Serialize)]
pub struct CheckpointMail {
    /// Who it is addressed to: the name configured with the address, or the address.
    pub recipient: String,
    pub origin: String,
    /// When it was signed, local time, dd/mm/yyyy HH:MM.
    pub made_at: String,
    /// The entries it covers, written as Vietnamese numbers are (1.234).
    pub size: String,
    pub root: String,
    pub vkey: String,
    pub fingerprint: String,
    /// On the checkpoint a restore made: when the backup was taken.
    pub restored_from: Option<String>,
    /// The attachment's name.
    pub file_name: String,
    /// The signed note, byte for byte.
    pub note: String,
}

/// Renders a mailed checkpoint: the subject and the plain text (the note is attached too).
pub fn render_checkpoint(m: &CheckpointMail) -> Result<(String, String), String> {
    let subject = format!("[casetrack] Điểm chốt nhật ký thao tác: {} mục", m.size);
    let text = environment()
        .get_template("checkpoint_mail.txt")
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(m))))
        .map_err(|e| e.to_string())?;
    Ok((subject, text))
}

/// Assembles a mailed checkpoint: the text, and the signed note as a plain-text
/// attachment that `casetrack audit verify --checkpoint` reads as it is.
pub fn build_checkpoint_message(
    from: &str,
    to_name: &str,
    to_email: &str,
    message_id: &str,
    subject: &str,
    text: &str,
    m: &CheckpointMail,
) -> Result<Message, String> {
    use lettre::message::{Attachment, SinglePart, header::ContentType};
    let from: Mailbox = from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to_name = (!to_name.is_empty()).then(|| to_name.to_string());
    let to = Mailbox::new(to_name, to_email.parse().map_err(|e| format!("recipient address: {e}"))?);
    let plain = ContentType::parse("text/plain; charset=utf-8").map_err(|e| e.to_string())?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.to_string()))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(text.to_string()))
                .singlepart(Attachment::new(m.file_name.clone()).body(m.note.clone(), plain)),
        )
        .map_err(|e| e.to_string())
}

/// A digest's list: the cases it names (most overdue first, at most the configured number),
/// how many more there are, and where the whole overdue list is.
pub struct Digest<'a> {
    pub items: &'a [AlertItem],
    pub more: usize,
    pub list_link: String,
}

/// Renders the alert message for `recipient_name` (HTML is escaped).
pub fn render_alert(recipient_name: &str, digest: &Digest) -> Result<Rendered, String> {
    let total = digest.items.len() + digest.more;
    let subject = match digest.items {
        // The case's number, never its title: a subject line passes through mail servers'
        // logs and the outbox that administrators read, and a title may name a person.
        [one] if digest.more == 0 => format!("[casetrack] {}: vụ việc {}", one.level_label, one.number),
        _ => format!("[casetrack] {total} vụ việc cần xử lý"),
    };
    let env = environment();
    let items = minijinja::Value::from(minijinja::value::Serde(digest.items));
    let ctx = minijinja::context! {
        recipient_name, items, total, more => digest.more, list_link => digest.list_link.clone(), subject => subject.clone(),
    };
    let text = env.get_template("alert_digest.txt").and_then(|t| t.render(&ctx)).map_err(|e| e.to_string())?;
    let html = env.get_template("alert_digest.html").and_then(|t| t.render(&ctx)).map_err(|e| e.to_string())?;
    Ok(Rendered { subject, text, html })
}

/// Assembles the email: encoded Vietnamese names and subject, a stable Message-ID,
/// plain text and HTML alternatives.
pub fn build_message(
    from: &str,
    to_name: &str,
    to_email: &str,
    message_id: &str,
    r: &Rendered,
) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to = Mailbox::new(Some(to_name.to_string()), to_email.parse().map_err(|e| format!("recipient address: {e}"))?);
    Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject.clone())
        .message_id(Some(message_id.to_string()))
        .multipart(MultiPart::alternative_plain_html(r.text.clone(), r.html.clone()))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(number: &str) -> AlertItem {
        AlertItem {
            level_label: "Đã quá hạn".into(),
            number: number.into(),
            title: "Chậm giải ngân <vốn>".into(),
            subject: "Nguyễn Văn Bình, Phó trưởng phòng".into(),
            unit: "Phường Điện Biên".into(),
            deadline: "10/10/2024 10:00".into(),
            days_overdue: 3,
            link: "http://127.0.0.1:8080/cases/x".into(),
        }
    }

    #[tokio::test]
    async fn a_memory_mailer_keeps_what_it_sends_for_its_clones_to_read() {
        let mailer = Mailer::memory();
        let message = Message::builder()
            .from("casetrack <casetrack@hanoi.gov.vn>".parse().unwrap())
            .to("Trần Thị Hương <huong@example.vn>".parse().unwrap())
            .subject("Thử")
            .body("Nội dung".to_string())
            .unwrap();
        assert_eq!(mailer.sent().await, Vec::new());
        mailer.clone().send(message).await.unwrap();
        let sent = mailer.sent().await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, vec!["huong@example.vn".to_string()]);
        assert!(sent[0].1.contains("Subject: =?utf-8?") || sent[0].1.contains("Subject: Th"), "{}", sent[0].1);
    }

    #[test]
    fn a_digest_lists_every_case_and_escapes_html() {
        let items = [item("2024-000001"), item("2024-000002")];
        let r = render_alert("Trần Thị Hương", &Digest { items: &items, more: 0, list_link: "http://x/cases".into() })
            .unwrap();
        assert_eq!(r.subject, "[casetrack] 2 vụ việc cần xử lý");
        assert!(r.text.contains("Kính gửi đồng chí Trần Thị Hương"));
        assert!(r.text.contains("2024-000001") && r.text.contains("2024-000002"));
        assert!(r.text.contains("quá hạn 3 ngày"));
        assert!(r.html.contains("Chậm giải ngân &lt;vốn&gt;"), "{}", r.html);
    }

    #[test]
    fn a_capped_digest_says_how_many_more_and_links_to_the_list() {
        let items = [item("2024-000001")];
        let digest = Digest { items: &items, more: 74, list_link: "https://ct.hanoi.gov.vn/cases?overdue=true".into() };
        let r = render_alert("Trần Thị Hương", &digest).unwrap();
        assert_eq!(r.subject, "[casetrack] 75 vụ việc cần xử lý");
        assert!(r.text.contains("và 74 vụ việc khác"), "{}", r.text);
        assert!(r.text.contains("https://ct.hanoi.gov.vn/cases?overdue=true"), "{}", r.text);
        assert!(r.html.contains("74"), "{}", r.html);
    }

    #[test]
    fn headers_carry_vietnamese_names_encoded() {
        let one = [item("2024-000001")];
        let r = render_alert("Trần Thị Hương", &Digest { items: &one, more: 0, list_link: String::new() }).unwrap();
        let m =
            build_message("casetrack@hanoi.gov.vn", "Trần Thị Hương", "huong@hanoi.gov.vn", "<abc@hanoi.gov.vn>", &r)
                .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <abc@hanoi.gov.vn>"), "{raw}");
        assert!(raw.contains("=?utf-8?"), "non-ASCII headers are encoded: {raw}");
        assert!(!raw.lines().any(|l| l.starts_with("To:") && l.contains("Trần")));
    }
}
