//! Snapshots of every request path and body, with a fixed clock and fixed keys. Each snapshot
//! was compared field by field with Liquido's docs (comments next to each assertion).

use std::sync::Arc;

use preauth_core::transport::HttpRequest;
use preauth_core::{
    Address, AuthorizeRequest, CardDetails, Currency, Document, Hold, HoldStatus, IdempotencyKey,
    ManualClock, Money, Payer, PaymentMethod, SequentialKeys, ThreeDs,
};
use preauth_liquido::{Liquido, LiquidoConfig};
use serde_json::{Value, json};

pub(crate) const CLIENT_SECRET: &str = "client-secret-SNAPSHOT-7c1e";
pub(crate) const API_KEY: &str = "api-key-SNAPSHOT-93ab";

pub(crate) fn client() -> Liquido {
    Liquido::new(LiquidoConfig::new(
        "liquido-client-id",
        CLIENT_SECRET,
        API_KEY,
    ))
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(
        time::macros::datetime!(2026-01-01 00:00 UTC),
    )))
    .with_keys(Arc::new(SequentialKeys::new("snap-")))
}

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

/// The docs' example key.
fn key() -> IdempotencyKey {
    IdempotencyKey::new("1ec983fa-1a37-679b-809b-067861d87ab0").unwrap()
}

/// URL and body of a request, the body parsed (keys sorted) or `null` when there is none.
fn shape(req: &HttpRequest) -> Value {
    let body = if req.body_bytes().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(req.body_bytes()).expect("a JSON body")
    };
    json!({ "url": req.url(), "operation": req.operation().as_str(), "body": body })
}

fn card() -> CardDetails {
    CardDetails::new("4111111111111111", 9, 2030, "123", "card_holder_name").unwrap()
}

fn authorized(key: &str, amount: Money) -> Hold {
    Hold::new(
        "liquido",
        key,
        key,
        HoldStatus::Authorized,
        "AUTHORIZED",
        amount,
    )
}

#[test]
fn authorize_minimal() {
    let req = AuthorizeRequest::new(brl("1.00"), PaymentMethod::Card(card())).with_country("BR");
    let http = client().build_authorize(&req, &key()).unwrap();
    // Compared with docs payin/brazil/credit_card "Create a card payment with card info" and
    // seed 000: url POST {api}/v1/payments/charges/card (sandbox host api-qa.liquido.com);
    // idempotencyKey = the docs' key; amount 100 (Long, minor units: 1.00 BRL) as in the
    // example; currency "BRL", country "BR", paymentMethod "CREDIT_CARD", paymentFlow "DIRECT"
    // as in the example; card.{cardHolderName, cardNumber, expirationMonth "09" (2-digit
    // string, as "09" in the example), expirationYear "2030" (4-digit string, example
    // "2024"), cvc "123"} as in the example; capture false (seed 000: "must be set to false to
    // create an authorization"). payer, orderInfo, description, callbackUrl, subMerchantId
    // are omitted because the request has none (optional in the docs).
    insta::assert_json_snapshot!("authorize_minimal", shape(&http));
    // The bytes sent, in the docs' field order (the snapshot above sorts keys).
    assert_eq!(
        std::str::from_utf8(http.body_bytes()).unwrap(),
        concat!(
            r#"{"idempotencyKey":"1ec983fa-1a37-679b-809b-067861d87ab0","amount":100,"#,
            r#""currency":"BRL","country":"BR","paymentMethod":"CREDIT_CARD","paymentFlow":"DIRECT","#,
            r#""card":{"cardHolderName":"card_holder_name","cardNumber":"4111111111111111","#,
            r#""expirationMonth":"09","expirationYear":"2030","cvc":"123"},"capture":false}"#
        )
    );
}

#[test]
fn authorize_with_payer_three_ds_and_sub_merchant() {
    let address = Address::new("BR")
        .with_street("Rua 9 de setembro", "15")
        .with_complement("casa")
        .with_district("Jardim Gaivotas")
        .with_city("sao paulo")
        .with_state("SP")
        .with_postal_code("04849333");
    let payer = Payer::new("Thiago", "Gabriel")
        .with_email("thiago@example.com")
        .with_phone("+55 81987654321")
        .with_document(Document::new("CPF", "00123456789"))
        .with_billing_address(address);
    let req = AuthorizeRequest::new(brl("1.00"), PaymentMethod::Card(card()))
        .with_country("BR")
        .with_payer(payer)
        .with_description("this is a test pay")
        .with_notify_url("https://api.client.com/callback/")
        .with_return_url("https://merchant.example/3ds-return")
        .with_three_ds(ThreeDs::Required)
        .with_sub_merchant_id("UUID");
    let http = client().build_authorize(&req, &key()).unwrap();
    // Compared with docs payin/brazil/credit_card and seed 003's payer tables: payer.name
    // "Thiago Gabriel" (letters and spaces only), payer.email, payer.phone "+55 81987654321",
    // payer.document.{documentId, type "CPF"}, payer.billingAddress.{zipCode "04849333", state
    // "SP", city, district, street, number "15", complement "casa", country "BR"} — the same
    // names and values as the example; description "this is a test pay", callbackUrl
    // "https://api.client.com/callback/" and subMerchantId "UUID" as in the example (seed 000:
    // subMerchantId required for PSP merchants); card3dsInfo.{use3ds: true, merchantSite3ds:
    // the return URL} as in docs payin/three_domain_secure; capture false (seed 000).
    insta::assert_json_snapshot!(
        "authorize_with_payer_three_ds_and_sub_merchant",
        shape(&http)
    );
}

#[test]
fn authorize_with_saved_card() {
    let req = AuthorizeRequest::new(
        brl("1.00"),
        PaymentMethod::SavedCard {
            id: "8736453a-dad0-4f26-85f0-95e8787d0237".into(),
        },
    )
    .with_country("BR");
    let http = client().build_authorize(&req, &key()).unwrap();
    // Compared with docs payin/brazil/credit_card "Create a card payment with card id":
    // cardId replaces the card object (the id is the one seed 000's answer returns in
    // transferDetails.card.cardId); every other field as in authorize_minimal.
    insta::assert_json_snapshot!("authorize_with_saved_card", shape(&http));
}

#[test]
fn capture_full() {
    let hold = authorized(key().as_str(), brl("10.00"));
    let http = client().build_capture(&hold, None).unwrap();
    // Compared with seed 000 "结算预授权": POST /v1/payments/charges/card/capture/{idempotencyKey}
    // with the pre-authorization's key in the path; the body is optional and "defaults to
    // the full authorized amount", so a full capture sends none.
    insta::assert_json_snapshot!("capture_full", shape(&http));
}

#[test]
fn capture_partial() {
    let clp = |s: &str| Money::parse_major(s, Currency::CLP).unwrap();
    let hold = authorized(key().as_str(), clp("300"));
    let http = client().build_capture(&hold, Some(&clp("150"))).unwrap();
    // Compared with seed 000 and docs payin/chile/credit_card/authorization: body
    // {"amount": 150} (Long, minor units; CLP has no decimals) for a hold of 300, as in the
    // Chile example, whose answer carries finalAmount 150; same path as a full capture.
    insta::assert_json_snapshot!("capture_partial", shape(&http));
}

#[test]
fn cancel() {
    let http = client().build_cancel("20220602-001").unwrap();
    // Compared with seed 003 "取消未完成的支付" and seed 000 "取消预授权":
    // POST /v1/payments/charges/cancel/{idempotencyKey} with the key of seed 003's example,
    // no body.
    insta::assert_json_snapshot!("cancel", shape(&http));
}

#[test]
fn retrieve() {
    let http = client().build_retrieve(key().as_str()).unwrap();
    // Compared with docs payin/*/retrieve_a_payment: GET /v1/payments/charges/{idempotencyKey}.
    insta::assert_json_snapshot!("retrieve", shape(&http));
}

#[test]
fn refund() {
    let mut hold = authorized("2022030214000007", brl("1.00"));
    hold.status = HoldStatus::Captured;
    hold.captured = brl("1.00");
    let refund_key = IdempotencyKey::new("2022030214000007-1").unwrap();
    let http = client()
        .build_refund(
            &hold,
            &refund_key,
            &brl("0.03"),
            Some("refund test"),
            "BR",
            Some("https://api.client.com/callback/"),
        )
        .unwrap();
    // Compared with docs payin/brazil/refund "Request Body", field by field:
    // idempotencyKey "2022030214000007-1" (the refund's own key), referenceId
    // "2022030214000007" (the payment's key), amount 3 (minor units), currency "BRL", country
    // "BR", description "refund test", callbackUrl "https://api.client.com/callback/";
    // POST /v1/payments/charges/refund.
    insta::assert_json_snapshot!("refund", shape(&http));
}

#[test]
fn retrieve_refund() {
    let http = client()
        .build_retrieve_refund("2022030214000007-1")
        .unwrap();
    // Compared with docs payin/honduras/retrieve_a_refund:
    // GET /v1/payments/charges/refund/{idempotencyKey of the refund}.
    insta::assert_json_snapshot!("retrieve_refund", shape(&http));
}

#[test]
fn token_form() {
    let http = client().build_token_request().unwrap();
    let form = std::str::from_utf8(http.body_bytes()).unwrap();
    assert_eq!(
        form.matches(CLIENT_SECRET).count(),
        1,
        "the secret is sent once"
    );
    let redacted = form.replace(CLIENT_SECRET, "[REDACTED]");
    assert_eq!(http.url(), "https://auth-dev.liquido.com/oauth2/token");
    // Compared with docs authentication and the SDK's AuthClient (Guzzle form_params):
    // POST {auth}/oauth2/token, application/x-www-form-urlencoded, client_id, client_secret
    // and grant_type=client_credentials, in the SDK's order. The secret is redacted here.
    insta::assert_snapshot!("token_form", redacted);
}

#[test]
fn production_urls() {
    let c = Liquido::new(
        LiquidoConfig::new("id", "secret", "key")
            .with_environment(preauth_liquido::LiquidoEnvironment::Production),
    )
    .unwrap();
    // The official SDK's production hosts.
    assert_eq!(
        c.build_token_request().unwrap().url(),
        "https://authsg.liquido.com/oauth2/token"
    );
    assert_eq!(
        c.build_retrieve("k1").unwrap().url(),
        "https://api.liquido.com/v1/payments/charges/k1"
    );
}

#[test]
fn references_that_cannot_be_a_path_segment_are_refused() {
    let c = client();
    for bad in [
        "",
        ".",
        "..",
        "a/b",
        "a?b",
        "a b",
        "a%2Fb",
        &"k".repeat(129),
    ] {
        let e = c.build_retrieve(bad).unwrap_err();
        assert!(e.is_local(), "{bad:?}: {e}");
        assert!(c.build_cancel(bad).is_err(), "{bad:?}");
    }
}
