//! The agent desktop's side of the HTTP API, for the tests that play it:
//! an HTTP client, the agent's credentials, the events WebSocket and the
//! notices that come on it.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use futures::StreamExt;

/// agent1001's Basic credentials (agent1001:secret1001), as the test
/// campaigns configure that agent.
pub const AGENT1001: &str = "Basic YWdlbnQxMDAxOnNlY3JldDEwMDE=";

/// An agent's events WebSocket.
pub type Events = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An HTTP client (reqwest is built with rustls and no default crypto
/// provider: this installs one).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Opens `login`'s events WebSocket on the API at `api_port`, sending
/// `authorization`.
pub async fn connect_events(api_port: u16, login: &str, authorization: &str) -> Events {
    let mut request = format!("ws://127.0.0.1:{api_port}/agents/{login}/events")
        .into_client_request()
        .expect("a WebSocket URL");
    request.headers_mut().insert(
        "authorization",
        authorization.parse().expect("a header value"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the agent's WebSocket");
    socket
}

/// The next notice on `events` (a JSON object), by `deadline`; fails the
/// test, saying it waited for `what`, when none comes.
pub async fn next_notice(
    events: &mut Events,
    deadline: tokio::time::Instant,
    what: &str,
) -> serde_json::Value {
    let message = tokio::time::timeout_at(deadline, events.next())
        .await
        .unwrap_or_else(|_| panic!("no notice in time: waiting for {what}"))
        .expect("the socket stays open")
        .expect("a message");
    serde_json::from_str(message.to_text().expect("a text message")).expect("a JSON notice")
}
