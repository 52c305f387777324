//! argon2id password hashes (OWASP parameters: 19 MiB, 2 passes, 1 lane).

use std::sync::{Arc, LazyLock, Mutex, mpsc};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};

/// Hash of a random password, verified for unknown users so that a wrong
/// username costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash(&generate()).expect("hashing a generated password"));

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// True when `password` matches `phc`; an unparsable hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Does the work of a verification for a user that does not exist.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY_HASH);
}

type Job = Box<dyn FnOnce() + Send>;

/// A small pool of threads of its own for hashing and verifying passwords.
///
/// argon2 takes tens of milliseconds of CPU and 19 MiB. Run on the database's blocking
/// threads (as many as pooled connections), a burst of sign-ins — everyone arriving at
/// 8:00 — would hold every connection while hashing and starve case reads. Here it holds
/// none: sign-ins queue for these threads, and the database is asked before and after.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
}

impl Hasher {
    /// Starts `workers` threads (at least one); they end when the last handle is dropped.
    pub fn start(workers: usize) -> Hasher {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("casetrack-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().map(|q| q.recv());
                        match job {
                            Ok(Ok(job)) => job(),
                            _ => break,
                        }
                    }
                })
                .expect("hashing thread starts");
        }
        Hasher { jobs }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).expect("the hashing threads run while the service does");
        result.await.expect("a hashing job always answers")
    }

    /// [`hash`], on the pool.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        self.run(move || hash(&password)).await
    }

    /// [`verify`] against `phc`, or [`verify_dummy`] when there is no user; on the pool.
    pub async fn verify(&self, password: String, phc: Option<String>) -> bool {
        self.run(move || match phc {
            Some(phc) => verify(&password, &phc),
            None => {
                verify_dummy(&password);
                false
            }
        })
        .await
    }
}

/// A strong random password (20 letters and digits, about 119 bits).
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("mật khẩu đủ dài").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("mật khẩu đủ dài", &h));
        assert!(!verify("mat khau du dai", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies_off_the_callers_thread() {
        let pool = Hasher::start(2);
        let h = pool.hash("mật khẩu đủ dài".into()).await.unwrap();
        let (right, wrong, nobody) = tokio::join!(
            pool.verify("mật khẩu đủ dài".into(), Some(h.clone())),
            pool.verify("sai".into(), Some(h)),
            pool.verify("mật khẩu đủ dài".into(), None),
        );
        assert_eq!((right, wrong, nobody), (true, false, false));
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate());
    }
}
