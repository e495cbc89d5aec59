//! No `Debug` or `Display` of the config, the client, a request or an error carries the
//! secret key, the card number or the CVC.

use preauth_core::transport::HttpResponse;
use preauth_core::{Currency, Money, PreauthProvider};
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;

use crate::common::{OnerwayHarness, TEST_SECRET, seed_client};
use crate::snapshots::seed_request;

const CARD: &str = "2221008123677736";
const CVC: &str = "789";

#[track_caller]
fn clean(what: &str, text: &str) {
    for secret in [TEST_SECRET, CARD, "sim0nerwaysecretkey", cards::APPROVE] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
    assert!(
        !text.contains(&format!("\"{CVC}\"")),
        "{what} leaks the CVC: {text}"
    );
}

#[test]
fn offline_debug_outputs() {
    let (client, _) = seed_client();
    clean("client", &format!("{client:?}"));
    clean("config", &format!("{:?}", client.config()));
    let req = seed_request();
    clean("request", &format!("{req:?}"));
    let key = client.authorize_key(&req);
    let http = client.build_authorize(&req, &key).unwrap();
    clean("http request", &format!("{http:?}"));
    for body in [
        "",
        "<html>",
        "{\"respCode\":\"13002\",\"respMsg\":\"invalid card number\"}",
    ] {
        let e = client
            .parse_authorize(&req, &key, &HttpResponse::new(200, body))
            .unwrap_err();
        clean("error", &format!("{e:?} {e}"));
    }
}

#[tokio::test]
async fn errors_and_logs_of_whole_flows() {
    let logs = preauth_testkit::logs::capture();
    let h = OnerwayHarness::start().await;
    let wrong = h.client_with(|mut c| {
        c.secret_key = TEST_SECRET.to_owned().into();
        c
    });
    let amount = Money::parse_major("10.00", Currency::EUR).unwrap();
    for card in [cards::APPROVE, cards::DECLINE] {
        let e = wrong
            .authorize(h.authorize_request(amount, card))
            .await
            .unwrap_err();
        clean("sign error", &format!("{e:?} {e}"));
        let e = h
            .client
            .authorize(h.authorize_request(amount, cards::DECLINE))
            .await
            .unwrap_err();
        clean("decline", &format!("{e:?} {e}"));
    }
    let hold = h
        .client
        .authorize(h.authorize_request(amount, cards::APPROVE))
        .await
        .unwrap();
    h.client
        .capture(preauth_core::CaptureRequest::new(hold))
        .await
        .unwrap();
    clean("simulator", &format!("{:?}", h.sim));
    clean("client", &format!("{:?}", h.client));
    let logged = logs.contents();
    assert!(logged.contains("onerway"), "the flows were logged");
    preauth_testkit::logs::assert_no_secrets(
        "logs",
        &logged,
        &[
            TEST_SECRET,
            CARD,
            "sim0nerwaysecretkey",
            cards::APPROVE,
            cards::DECLINE,
        ],
    );
}
