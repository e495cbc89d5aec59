//! No secret reaches a `Debug` or `Display`: requests carrying a card, errors built from
//! provider answers, HTTP requests carrying tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use preauth_core::transport::{HttpRequest, Method};
use preauth_core::{
    AuthorizeRequest, CaptureRequest, CardDetails, Currency, Error, Hold, HoldStatus, Money,
    Operation, PaymentMethod, ProviderDetails, SecretString,
};

const PAN: &str = "4111111111111111";
const CVC: &str = "737";
const TOKEN: &str = "eyJraWQiOiJsaXZlLXRva2VuLXNlY3JldCJ9";
const API_KEY: &str = "sk_live_51HqLyjWDarjtT1zdp7dc";

#[track_caller]
fn clean(what: &str, s: &str) {
    for secret in [PAN, CVC, TOKEN, API_KEY] {
        assert!(!s.contains(secret), "{what} leaks {secret:?}: {s}");
    }
}

#[test]
fn requests_errors_and_http_requests_never_show_secrets() {
    let card = CardDetails::new(PAN, 3, 2031, CVC, "Ana Silva").unwrap();
    let amount = Money::parse_major("10.00", Currency::EUR).unwrap();
    let auth = AuthorizeRequest::new(amount, PaymentMethod::Card(card.clone()));
    clean("AuthorizeRequest", &format!("{auth:?}"));
    clean("CardDetails", &format!("{card:?} {card:#?}"));
    clean("PaymentMethod", &format!("{:?}", PaymentMethod::Card(card)));

    let hold = Hold::new(
        "p",
        "id",
        "key",
        HoldStatus::Authorized,
        "AUTHORIZED",
        amount,
    );
    clean(
        "CaptureRequest",
        &format!("{:?}", CaptureRequest::new(hold.clone())),
    );
    clean(
        "Hold",
        &format!("{hold:?} {}", serde_json::to_string(&hold).unwrap()),
    );

    let secret = SecretString::from(API_KEY.to_owned());
    clean("SecretString", &format!("{secret:?}"));

    let http = HttpRequest::new(
        Method::Post,
        "https://api.example/v1/charges",
        Operation::Authorize,
        "key-1",
    )
    .secret_header("authorization", format!("Bearer {TOKEN}"))
    .secret_header("x-api-key", API_KEY)
    .body(
        "application/json",
        format!(r#"{{"cardNumber":"{PAN}","cvc":"{CVC}"}}"#),
    );
    clean("HttpRequest", &format!("{http:?} {http:#?}"));

    let errors = [
        Error::invalid_request("card number fails the Luhn check"),
        Error::Declined {
            provider: "p",
            details: Box::new(ProviderDetails::new(
                Some("05".into()),
                Some("do not honour".into()),
            )),
            hold: Some(Box::new(hold)),
        },
        Error::protocol("p", Operation::Authorize, "body is not JSON"),
        Error::OutcomeUnknown {
            provider: "p",
            operation: Operation::Capture,
            reference: "key-1".into(),
            reason: "timeout".into(),
            source: None,
        },
    ];
    for e in &errors {
        clean("Error", &format!("{e} {e:?}"));
    }
}
