//! A TCP proxy that can be cut and restored: the database "goes down" for real, mid-run.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
    cut: Arc<Notify>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut p = Self { addr, target, task: None, cut: Arc::new(Notify::new()) };
        p.serve(listener);
        p
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target;
        let cut = self.cut.clone();
        self.task = Some(tokio::spawn(async move {
            let mut conns = Vec::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { continue };
                        conns.push(tokio::spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            }
                        }));
                    }
                    () = cut.notified() => {
                        for c in conns { c.abort(); }
                        return;
                    }
                }
            }
        }));
    }

    /// Closes every connection and stops listening.
    pub async fn cut(&mut self) {
        self.cut.notify_one();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Listens again on the same address.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}
