//! A TCP proxy that breaks connections the way bad networks do, at random (seeded) points. For
//! every request on a connection (keep-alive included) it rolls: pass, cut the request after some
//! bytes (the server never gets all of it), cut the answer after some bytes (the server did the
//! work, the phone never hears of it), or stall past the client's timeout. `set_offline` refuses
//! connections and drops the open ones, as a phone going into a basement does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, watch};

use crate::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    CutRequest(usize),
    CutResponse(usize),
    Stall,
}

struct Dice {
    rng: Mutex<Rng>,
    rate_permille: AtomicU64,
    forced: Mutex<Option<Fault>>,
    /// A fault for the next request whose first line holds the text (then it is spent).
    aimed: Mutex<Option<(String, Fault)>>,
    log: Mutex<Vec<Fault>>,
}

impl Dice {
    async fn roll(&self, head: &[u8]) -> Fault {
        let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let aimed = {
            let mut aimed = self.aimed.lock().await;
            match &*aimed {
                Some((needle, f)) if line.windows(needle.len()).any(|w| w == needle.as_bytes()) => {
                    let f = *f;
                    *aimed = None;
                    Some(f)
                }
                _ => None,
            }
        };
        let fault = if let Some(f) = aimed {
            f
        } else if let Some(f) = *self.forced.lock().await {
            f
        } else {
            let mut r = self.rng.lock().await;
            if r.unit() * 1000.0 >= self.rate_permille.load(Ordering::Relaxed) as f64 {
                Fault::Pass
            } else {
                // From a few bytes to a few kilobytes: inside the headers, the body or the answer.
                let bytes = 1 + (r.unit() * 3000.0) as usize;
                match (r.unit() * 10.0) as u32 {
                    0..=3 => Fault::CutRequest(bytes),
                    4..=8 => Fault::CutResponse(bytes),
                    _ => Fault::Stall,
                }
            }
        };
        self.log.lock().await.push(fault);
        fault
    }
}

pub struct FaultyProxy {
    pub addr: SocketAddr,
    dice: Arc<Dice>,
    offline: Arc<AtomicBool>,
    /// Bumped to drop every open connection.
    generation: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One proxied connection, judged request by request.
async fn relay(inbound: TcpStream, target: SocketAddr, dice: Arc<Dice>, mut dropped: watch::Receiver<u64>) {
    let Ok(outbound) = TcpStream::connect(target).await else { return };
    let (mut ci, mut co) = inbound.into_split();
    let (mut si, mut so) = outbound.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut new_request = true;
    let (mut up_left, mut down_left) = (usize::MAX, usize::MAX);
    loop {
        tokio::select! {
            r = ci.read(&mut up) => {
                let Ok(n) = r else { return };
                if n == 0 {
                    return;
                }
                if new_request {
                    new_request = false;
                    (up_left, down_left) = match dice.roll(&up[..n]).await {
                        Fault::Pass => (usize::MAX, usize::MAX),
                        Fault::CutRequest(b) => (b, usize::MAX),
                        Fault::CutResponse(b) => (usize::MAX, b),
                        Fault::Stall => {
                            tokio::select! {
                                () = tokio::time::sleep(Duration::from_secs(30)) => {}
                                _ = dropped.changed() => {}
                            }
                            return;
                        }
                    };
                }
                let n = n.min(up_left);
                if so.write_all(&up[..n]).await.is_err() {
                    return;
                }
                up_left -= n;
                if up_left == 0 {
                    return;
                }
            }
            r = si.read(&mut down) => {
                let Ok(n) = r else { return };
                if n == 0 {
                    return;
                }
                new_request = true;
                let n = n.min(down_left);
                if co.write_all(&down[..n]).await.is_err() {
                    return;
                }
                down_left -= n;
                if down_left == 0 {
                    return;
                }
            }
            _ = dropped.changed() => return,
        }
    }
}

impl FaultyProxy {
    pub async fn start(target: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dice = Arc::new(Dice {
            rng: Mutex::new(Rng(seed)),
            rate_permille: AtomicU64::new(0),
            forced: Mutex::new(None),
            aimed: Mutex::new(None),
            log: Mutex::new(Vec::new()),
        });
        let offline = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let (d, off, gen_tx) = (dice.clone(), offline.clone(), generation.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else { continue };
                if off.load(Ordering::Relaxed) {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(relay(inbound, target, d.clone(), gen_tx.subscribe()));
            }
        });
        Self { addr, dice, offline, generation, task }
    }

    /// Share of requests broken, 0.0 to 1.0.
    pub fn set_fault_rate(&self, rate: f64) {
        self.dice.rate_permille.store((rate.clamp(0.0, 1.0) * 1000.0) as u64, Ordering::Relaxed);
    }

    /// The same fault for every request from now on (`None`: back to the random rate); open
    /// connections are dropped so the next request meets it.
    pub async fn force(&self, fault: Option<Fault>) {
        *self.dice.forced.lock().await = fault;
        self.generation.send_modify(|g| *g += 1);
    }

    /// `fault` for the next request whose request line contains `needle` (a method and path
    /// such as `POST /api/v1/events/…/actions`), once; the others as before.
    pub async fn aim(&self, needle: &str, fault: Fault) {
        *self.dice.aimed.lock().await = Some((needle.to_owned(), fault));
    }

    /// Refuses new connections and drops the open ones (the phone is in a basement).
    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::Relaxed);
        if offline {
            self.generation.send_modify(|g| *g += 1);
        }
    }

    /// Every fault rolled so far, in order.
    pub async fn faults(&self) -> Vec<Fault> {
        self.dice.log.lock().await.clone()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
