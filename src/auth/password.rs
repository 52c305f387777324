//! argon2id password hashes (OWASP parameters: 19 MiB, 2 passes, 1 lane).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};

use crate::error::Error;

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

/// Jobs a single caller may have waiting at once; past it, their next one is refused (429).
pub const MAX_WAITING_PER_CALLER: usize = 256;

/// A small pool of threads of its own for hashing and verifying passwords.
///
/// argon2 takes tens of milliseconds of CPU and 19 MiB. Run on the database's blocking
/// threads (as many as pooled connections), a burst of sign-ins — everyone arriving at
/// 8:00 — would hold every connection while hashing and starve case reads. Here it holds
/// none: sign-ins queue for these threads, and the database is asked before and after.
///
/// The queue is fair between callers: each job names its caller (a client address for a
/// sign-in, an account for a signed-in user), and the threads take one job of each
/// waiting caller in turn. One caller flooding the pool waits behind their own jobs, never
/// in front of everyone else's sign-ins, and has at most [`MAX_WAITING_PER_CALLER`] waiting.
#[derive(Clone)]
pub struct Hasher {
    shared: Arc<Shared>,
    /// Dropped with the last handle: the threads then finish what is queued and end.
    _open: Arc<Open>,
}

#[derive(Default)]
struct Lanes {
    /// Callers with jobs waiting, in the order they are served next.
    turn: VecDeque<String>,
    waiting: HashMap<String, VecDeque<Job>>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    lanes: Mutex<Lanes>,
    ready: Condvar,
}

struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        if let Ok(mut lanes) = self.0.lanes.lock() {
            lanes.closed = true;
        }
        self.0.ready.notify_all();
    }
}

impl Shared {
    /// The next job in turn, or `None` once closed and empty.
    fn next(&self) -> Option<Job> {
        let mut lanes = self.lanes.lock().ok()?;
        loop {
            if let Some(caller) = lanes.turn.pop_front() {
                let queue = lanes.waiting.get_mut(&caller)?;
                let job = queue.pop_front();
                if queue.is_empty() {
                    lanes.waiting.remove(&caller);
                } else {
                    lanes.turn.push_back(caller);
                }
                return job;
            }
            if lanes.closed {
                return None;
            }
            lanes = self.ready.wait(lanes).ok()?;
        }
    }

    /// Queues `job` for `caller`; `false` when the caller already has too many waiting.
    fn push(&self, caller: &str, job: Job) -> bool {
        let Ok(mut lanes) = self.lanes.lock() else { return false };
        let lanes = &mut *lanes;
        match lanes.waiting.get_mut(caller) {
            Some(queue) if queue.len() >= MAX_WAITING_PER_CALLER => return false,
            Some(queue) => queue.push_back(job),
            None => {
                lanes.waiting.insert(caller.to_string(), VecDeque::from([job]));
                lanes.turn.push_back(caller.to_string());
            }
        }
        self.ready.notify_one();
        true
    }
}

impl Hasher {
    /// Starts `workers` threads (at least one); they end when the last handle is dropped.
    pub fn start(workers: usize) -> Hasher {
        let shared = Arc::new(Shared::default());
        for i in 0..workers.max(1) {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("casetrack-hash-{i}"))
                .spawn(move || {
                    while let Some(job) = shared.next() {
                        job();
                    }
                })
                .expect("hashing thread starts");
        }
        Hasher { _open: Arc::new(Open(shared.clone())), shared }
    }

    /// Runs `work` in `caller`'s turn; 429 when that caller already has too much waiting.
    async fn run<T: Send + 'static>(
        &self,
        caller: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        if !self.shared.push(caller, job) {
            return Err(Error::Throttled { retry_after_secs: 1 });
        }
        result.await.map_err(|_| Error::internal("a hashing job ended without an answer"))
    }

    /// [`hash`], on the pool, in `caller`'s turn.
    pub async fn hash(&self, caller: &str, password: String) -> Result<String, Error> {
        self.run(caller, move || hash(&password)).await?.map_err(Error::internal)
    }

    /// [`verify`] against `phc`, or [`verify_dummy`] when there is no user; on the pool, in
    /// `caller`'s turn.
    pub async fn verify(&self, caller: &str, password: String, phc: Option<String>) -> Result<bool, Error> {
        self.run(caller, move || match phc {
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
        let h = pool.hash("a", "mật khẩu đủ dài".into()).await.unwrap();
        let (right, wrong, nobody) = tokio::join!(
            pool.verify("a", "mật khẩu đủ dài".into(), Some(h.clone())),
            pool.verify("b", "sai".into(), Some(h)),
            pool.verify("c", "mật khẩu đủ dài".into(), None),
        );
        assert_eq!((right.unwrap(), wrong.unwrap(), nobody.unwrap()), (true, false, false));
    }

    /// With one thread busy and one caller's jobs queued ahead, another caller's job is
    /// the next but one to run, and the flooding caller's excess is refused.
    #[test]
    fn callers_take_turns_and_one_caller_cannot_fill_the_queue() {
        let shared = Shared::default();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let job = |name: &'static str| -> Job {
            let ran = ran.clone();
            Box::new(move || ran.lock().unwrap().push(name))
        };
        for _ in 0..MAX_WAITING_PER_CALLER {
            assert!(shared.push("flood", job("flood")));
        }
        assert!(!shared.push("flood", job("flood")), "the caller's lane is full");
        assert!(shared.push("office", job("office")));
        assert!(shared.push("office", job("office")));
        for _ in 0..4 {
            (shared.next().unwrap())();
        }
        assert_eq!(*ran.lock().unwrap(), ["flood", "office", "flood", "office"]);
        shared.lanes.lock().unwrap().closed = true;
        let mut rest = 0;
        while let Some(j) = shared.next() {
            j();
            rest += 1;
        }
        assert_eq!(rest, MAX_WAITING_PER_CALLER - 2, "what was queued still runs after closing");
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate());
    }
}
