//! A TCP proxy the test owns, between a server and its PostgreSQL: `cut()` makes the database
//! unreachable (existing connections are closed, new ones refused), `restore()` brings it back
//! on the same port — a database that goes away and comes back, without touching the shared
//! PostgreSQL server other tests use.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The proxy: its port, and the tasks of the listener and of each forwarded connection.
pub struct Proxy {
    pub port: u16,
    upstream: SocketAddr,
    tasks: Rc<RefCell<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Starts forwarding 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let proxy = Self {
            port,
            upstream,
            tasks: Rc::new(RefCell::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let tasks = self.tasks.clone();
        let accept = actix_web::rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let pipe = actix_web::rt::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.borrow_mut().push(pipe);
            }
        });
        self.tasks.borrow_mut().push(accept);
    }

    /// The database goes away: open connections are cut and new ones refused.
    pub fn cut(&self) {
        for t in self.tasks.borrow_mut().drain(..) {
            t.abort();
        }
    }

    /// The database comes back on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy's port again");
        self.serve(listener);
    }
}
