//! The OAuth2 token: one request for many concurrent operations, cached until 60 s before it
//! expires by the injected clock, replaced once on a 401, and refused credentials reported as
//! `Unauthenticated` with nothing else sent.

use std::sync::Arc;
use std::time::Duration;

use preauth_core::{Currency, Error, HoldRef, HoldStatus, Money, PreauthProvider, SecretString};
use preauth_liquido::Liquido;
use preauth_testkit::harness::{Harness, cards};
use preauth_testkit::test_transport;

use crate::harness::LiquidoHarness;

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_operations_share_one_token_request() {
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let p = p.clone();
        let req = h.authorize_request(brl("10.00"), cards::APPROVE);
        tasks.push(tokio::spawn(async move { p.authorize(req).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().status, HoldStatus::Authorized);
    }
    assert_eq!(
        h.sim.token_requests(),
        1,
        "one token for 20 concurrent authorizations"
    );
    assert_eq!(h.sim.ledger().len(), 20);
    assert_eq!(h.control().requests(), 21, "20 charges and 1 token request");
}

#[tokio::test]
async fn token_is_cached_and_replaced_60_seconds_before_it_expires() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
    assert_eq!(h.sim.token_requests(), 1);
    // expires_in is 3600 s: still used at 3539 s…
    h.control().clock.advance(Duration::from_secs(3539));
    h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(h.sim.token_requests(), 1, "still valid for more than 60 s");
    // …replaced from 3540 s on, before the simulator would refuse it.
    h.control().clock.advance(Duration::from_secs(1));
    h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(h.sim.token_requests(), 2, "replaced 60 s before expiry");
    h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(h.sim.token_requests(), 2);
}

#[tokio::test]
async fn a_401_replaces_the_token_once_and_retries_once() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
    h.sim.revoke_tokens();
    let before = h.control().requests();
    let seen = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Authorized);
    assert_eq!(h.sim.token_requests(), 2, "one new token");
    assert_eq!(
        h.control().requests() - before,
        3,
        "the refused call, one token request, one retry"
    );
    // A mutating call is retried the same way (the 401 means it was not processed).
    h.sim.revoke_tokens();
    let captured = h
        .client
        .capture(preauth_core::CaptureRequest::new(seen))
        .await
        .unwrap();
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(h.sim.token_requests(), 3);
    assert_eq!(h.sim.ledger()[0].captures, 1, "captured once");
}

#[tokio::test]
async fn a_second_401_is_unauthenticated_without_a_third_attempt() {
    let h = LiquidoHarness::start().await;
    let mut config = h.sim.config(&h.server.base_url());
    config.api_key = SecretString::from("not-the-api-key".to_owned());
    let client = Liquido::new(config)
        .unwrap()
        .with_transport(test_transport())
        .with_clock(Arc::new(h.control().clock.clone()));
    let before = h.control().requests();
    let e = client
        .retrieve(&HoldRef::merchant("k-1"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthenticated { .. }), "{e}");
    assert_eq!(
        h.sim.token_requests(),
        2,
        "the first token and one replacement"
    );
    assert_eq!(
        h.control().requests() - before,
        4,
        "token, call, token, call"
    );
}

#[tokio::test]
async fn refused_client_credentials_are_unauthenticated_and_nothing_else_is_sent() {
    let h = LiquidoHarness::start().await;
    let mut config = h.sim.config(&h.server.base_url());
    config.client_secret = SecretString::from("wrong-secret-123".to_owned());
    let client = Liquido::new(config)
        .unwrap()
        .with_transport(test_transport())
        .with_clock(Arc::new(h.control().clock.clone()));
    let before = h.control().requests();
    let e = client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap_err();
    let Error::Unauthenticated { details, .. } = &e else {
        panic!("expected Unauthenticated, got {e}")
    };
    assert_eq!(details.code.as_deref(), Some("invalid_client"));
    assert_eq!(details.http_status, Some(400));
    assert_eq!(h.control().requests() - before, 1, "only the token request");
    assert!(h.sim.ledger().is_empty(), "no charge was created");
    assert!(!format!("{e} {e:?}").contains("wrong-secret-123"));
}

#[tokio::test]
async fn an_unreadable_token_answer_is_a_protocol_error_of_authenticate() {
    let h = LiquidoHarness::start().await;
    h.control()
        .faults
        .once_on("/oauth2/token", preauth_core::sim::Fault::HtmlBody);
    let e = h
        .client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol {
                operation: preauth_core::Operation::Authenticate,
                ..
            }
        ),
        "the authorize was never sent, so its outcome is known: {e}"
    );
    assert!(h.sim.ledger().is_empty());
    // The next call gets a token and works.
    h.client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
}
