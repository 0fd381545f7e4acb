//! The PostgreSQL listener: one connection of its own, `LISTEN gridwork_cluster`, read on a thread
//! (libpq hands notices over without a round trip; diesel has no way to wait on its socket, so the
//! thread looks every few milliseconds). It says when it is connected and when it lost the
//! connection, so that the session cache is trusted only while every change is heard.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;

use crate::queries::cluster::CHANNEL;

/// What the listener tells the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    Connected,
    Lost,
    Notice(String),
}

/// How often the thread looks for notices: the delay a change made elsewhere may wait.
const LOOK_EVERY: Duration = Duration::from_millis(5);
/// How often an idle connection is checked: a dead socket with nothing to read looks idle.
const PING_EVERY: Duration = Duration::from_secs(5);

/// Runs until the server stops (`stopping`) or its end of `heard` is gone.
pub fn run(url: &str, heard: &UnboundedSender<Heard>, stopping: &watch::Receiver<bool>) {
    let done = || heard.is_closed() || *stopping.borrow();
    let mut backoff = Duration::from_millis(250);
    while !done() {
        match connect(url) {
            Ok(conn) => {
                backoff = Duration::from_millis(250);
                if heard.send(Heard::Connected).is_err() {
                    return;
                }
                let why = listen(conn, heard, &done);
                if done() {
                    return;
                }
                tracing::warn!(error = %why, "cluster listener lost its connection; reconnecting");
                if heard.send(Heard::Lost).is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cluster listener cannot connect"),
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

fn connect(url: &str) -> Result<PgConnection, String> {
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Passes notices on until the connection fails or the server stops; returns why.
fn listen(mut conn: PgConnection, heard: &UnboundedSender<Heard>, done: &impl Fn() -> bool) -> String {
    let mut pinged = Instant::now();
    loop {
        std::thread::sleep(LOOK_EVERY);
        let mut notices = Vec::new();
        for n in conn.notifications_iter() {
            match n {
                Ok(n) => notices.push(n.payload),
                Err(e) => return e.to_string(),
            }
        }
        for payload in notices {
            if heard.send(Heard::Notice(payload)).is_err() {
                return "the server stopped".into();
            }
        }
        if done() {
            return "the server stopped".into();
        }
        if pinged.elapsed() >= PING_EVERY {
            if let Err(e) = diesel::sql_query("SELECT 1").execute(&mut conn) {
                return e.to_string();
            }
            pinged = Instant::now();
        }
    }
}
