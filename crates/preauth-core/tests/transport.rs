//! The transport's retry policy, proven over real HTTP on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use preauth_core::transport::{
    HttpRequest, Method, Replay, RetryPolicy, Transport, TransportConfig,
};
use preauth_core::{Error, Operation};

fn transport() -> Transport {
    Transport::new(
        TransportConfig::default()
            .with_connect_timeout(Duration::from_millis(500))
            .with_attempt_timeout(Duration::from_millis(300))
            .with_total_timeout(Duration::from_secs(5))
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_backoff(Duration::from_millis(150), Duration::from_millis(400)),
            ),
    )
    .unwrap()
    .for_provider("test")
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Answers `script[n]` on the n-th call (the last entry repeats) and counts calls.
fn scripted(script: Vec<(u16, Option<&'static str>)>) -> (Router, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let handler = move || {
        let h = h.clone();
        let script = script.clone();
        async move {
            let n = h.fetch_add(1, Ordering::SeqCst) as usize;
            let (code, retry_after) = script[n.min(script.len() - 1)];
            let mut resp = (StatusCode::from_u16(code).unwrap(), "{}").into_response();
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", ra.parse().unwrap());
            }
            resp
        }
    };
    (
        Router::new().route("/op", post(handler.clone()).get(handler)),
        hits,
    )
}

fn post_req(base: &str, op: Operation) -> HttpRequest {
    HttpRequest::new(Method::Post, format!("{base}/op"), op, "key-1")
        .body("application/json", "{\"a\":1}")
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_server_is_up() {
    // Reserve a port, free it, and bring the server up on it only after the first attempt.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (router, hits) = scripted(vec![(200, None)]);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        axum::serve(l, router).await.unwrap();
    });
    let req = post_req(&format!("http://{addr}"), Operation::Capture);
    let resp = transport().send(&req).await.unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.attempts >= 2, "attempts {}", resp.attempts);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "only the attempt that connected reached the server"
    );
}

#[tokio::test]
async fn connection_refused_every_time_is_unavailable_not_unknown() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = transport()
        .send(&post_req(&format!("http://{addr}"), Operation::Capture))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn status_503_with_retry_after_is_retried() {
    let (router, hits) = scripted(vec![(503, Some("0")), (200, None)]);
    let base = serve(router).await;
    let resp = transport()
        .send(&post_req(&base, Operation::Capture))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn status_429_with_retry_after_is_retried_then_reported() {
    let (router, hits) = scripted(vec![(429, Some("0"))]);
    let base = serve(router).await;
    let err = transport()
        .send(&post_req(&base, Operation::Capture))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(hits.load(Ordering::SeqCst), 3, "all attempts used");
}

#[tokio::test]
async fn retry_after_longer_than_the_cap_is_not_waited_for() {
    let (router, hits) = scripted(vec![(429, Some("3600"))]);
    let base = serve(router).await;
    let err = transport()
        .send(&post_req(&base, Operation::Capture))
        .await
        .unwrap_err();
    match err {
        Error::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        e => panic!("{e}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn timeout_after_sending_a_capture_is_outcome_unknown_and_not_retried() {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/op",
        post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
                "{}"
            }
        }),
    );
    let base = serve(router).await;
    let err = transport()
        .send(&post_req(&base, Operation::Capture))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    match &err {
        Error::OutcomeUnknown {
            reference,
            operation,
            ..
        } => {
            assert_eq!(reference, "key-1");
            assert_eq!(*operation, Operation::Capture);
        }
        e => panic!("{e}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "never re-sent blindly");
}

#[tokio::test]
async fn timeout_on_a_deduplicated_write_is_retried_with_the_same_bytes() {
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let b = bodies.clone();
    let router = Router::new().route(
        "/op",
        post(move |body: String| {
            let b = b.clone();
            async move {
                let n = {
                    let mut g = b.lock().unwrap();
                    g.push(body);
                    g.len()
                };
                if n == 1 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                "{}"
            }
        }),
    );
    let base = serve(router).await;
    let req = post_req(&base, Operation::Authorize).replay(Replay::Safe);
    let resp = transport().send(&req).await.unwrap();
    assert_eq!(resp.attempts, 2);
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got, vec!["{\"a\":1}".to_owned(), "{\"a\":1}".to_owned()]);
}

#[tokio::test]
async fn server_error_on_a_capture_is_outcome_unknown_but_a_read_is_retried() {
    let (router, hits) = scripted(vec![(500, None), (200, None)]);
    let base = serve(router).await;
    let err = transport()
        .send(&post_req(&base, Operation::Capture))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (router, hits) = scripted(vec![(502, None), (200, None)]);
    let base = serve(router).await;
    let read = HttpRequest::new(Method::Get, format!("{base}/op"), Operation::Retrieve, "h1");
    let resp = transport().send(&read).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn client_errors_are_returned_not_retried() {
    for code in [400u16, 401, 404, 409, 422] {
        let (router, hits) = scripted(vec![(code, None), (200, None)]);
        let base = serve(router).await;
        let resp = transport()
            .send(&post_req(&base, Operation::Capture))
            .await
            .unwrap();
        assert_eq!(resp.status, code);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{code} not retried");
    }
}

#[tokio::test]
async fn connections_are_reused() {
    let router =
        Router::new().route(
            "/op",
            get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<
                    std::net::SocketAddr,
                >| async move { peer.port().to_string() },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let t = transport();
    let mut ports = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let r = HttpRequest::new(
            Method::Get,
            format!("http://{addr}/op"),
            Operation::Retrieve,
            "h",
        );
        let resp = t.send(&r).await.unwrap();
        ports.insert(String::from_utf8(resp.body.to_vec()).unwrap());
    }
    assert_eq!(
        ports.len(),
        1,
        "one pooled connection for sequential calls: {ports:?}"
    );
}

#[tokio::test]
async fn clients_built_without_a_transport_share_one_pool() {
    let router =
        Router::new().route(
            "/op",
            get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<
                    std::net::SocketAddr,
                >| async move { peer.port().to_string() },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let a = Transport::shared().unwrap().for_provider("a");
    let b = Transport::shared().unwrap().for_provider("b");
    let mut ports = std::collections::BTreeSet::new();
    for t in [&a, &b, &a, &b] {
        let r = HttpRequest::new(
            Method::Get,
            format!("http://{addr}/op"),
            Operation::Retrieve,
            "h",
        );
        let resp = t.send(&r).await.unwrap();
        ports.insert(String::from_utf8(resp.body.to_vec()).unwrap());
    }
    assert_eq!(
        ports.len(),
        1,
        "two providers' transports reuse one connection: {ports:?}"
    );
}
