//! The `preauth` binary's commands, run as a user would, against the embedded simulators.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use preauth::{
    AuthorizeRequest, CaptureRequest, CardDetails, Currency, HoldStatus, LineItem, Money,
    PaymentMethod,
};

fn preauth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preauth"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn demo_runs_the_hotel_stay_on_every_provider() {
    let o = preauth(&["demo"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    for name in ["liquido", "onerway", "yabandpay"] {
        assert!(
            out.contains(&format!("{name} (simulator at http://127.0.0.1:")),
            "{name}: {out}"
        );
    }
    assert!(
        out.contains("decrement by 50.00") && out.contains("250.00 EUR"),
        "YabandPay reduces the hold: {out}"
    );
    assert!(
        out.contains("not supported by onerway: partial capture"),
        "{out}"
    );
    assert!(out.contains("cancelled"), "{out}");
}

#[test]
fn authorize_on_the_embedded_simulator_prints_json() {
    let o = preauth(&[
        "authorize",
        "--provider",
        "onerway",
        "--amount",
        "10.00",
        "--currency",
        "USD",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let hold: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(hold["status"], "authorized");
    assert_eq!(hold["authorized"]["amount"], "10.00");
    assert!(
        !text(&o).contains("4111111111111111"),
        "the card number is never printed"
    );
}

#[test]
fn declined_and_unsupported_have_documented_exit_codes() {
    let o = preauth(&[
        "authorize",
        "--provider",
        "yabandpay",
        "--amount",
        "10.00",
        "--card",
        "4000000000000002",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("declined"), "{}", text(&o));
    let o = preauth(&[
        "decrement",
        "--provider",
        "onerway",
        "--reference",
        "x",
        "--by",
        "1.00",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not support decrement"),
        "{}",
        text(&o)
    );
    let o = preauth(&["authorize", "--provider", "stripe", "--amount", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = preauth(&[
        "authorize",
        "--provider",
        "liquido",
        "--amount",
        "1.001",
        "--currency",
        "BRL",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("more decimal places"), "{}", text(&o));
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(url: &str) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("simulator at {url} never came up");
}

#[tokio::test]
async fn sim_serves_a_provider_client_from_another_process() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _sim = Child(
        Command::new(env!("CARGO_BIN_EXE_preauth"))
            .args(["sim", "--provider", "yabandpay", "--addr", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://{addr}");
    wait_for(&url).await;

    // A library client in this process...
    let provider = preauth::embedded::config_for("yabandpay", &url)
        .unwrap()
        .build()
        .unwrap();
    let amount = Money::parse_major("80.00", Currency::EUR).unwrap();
    let card = CardDetails::new("4111111111111111", 12, 2030, "123", "Ana Silva").unwrap();
    let hold = provider
        .authorize(
            AuthorizeRequest::new(amount, PaymentMethod::Card(card))
                .with_line_item(LineItem::new("stay", amount, 1))
                .with_notify_url("https://hotel.example/notify")
                .with_return_url("https://hotel.example/return"),
        )
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Authorized);

    // ...and the CLI in a third process see the same state.
    let o = preauth(&[
        "retrieve",
        "--provider",
        "yabandpay",
        "--sim-url",
        &url,
        "--reference",
        &hold.provider_reference,
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(seen["status"], "authorized");

    let o = preauth(&[
        "capture",
        "--provider",
        "yabandpay",
        "--sim-url",
        &url,
        "--reference",
        &hold.provider_reference,
        "--amount",
        "50.00",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let captured: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(captured["status"], "captured");
    assert_eq!(captured["captured"]["amount"], "50.00");

    // YabandPay allows one capture: the second is refused before anything is sent.
    let again = provider.retrieve(&hold.reference()).await.unwrap();
    let e = provider
        .capture(CaptureRequest::new(again))
        .await
        .unwrap_err();
    assert!(e.is_local(), "{e}");
}

#[test]
fn webhook_verify_accepts_the_published_onerway_notification_and_rejects_a_tampered_one() {
    let dir = std::env::temp_dir().join(format!("preauth-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("onerway.toml");
    std::fs::write(
        &config,
        "provider = \"onerway\"\nmerchant_no = \"800277\"\napp_id = \"1\"\nsecret_key = \"de45ae6504ca46cb94ebd734bb650345\"\n",
    )
    .unwrap();
    // The notification example of Onerway's docs (shared/providers/onerway.md, 2.11).
    let body = r#"{"reason":"{\"respCode\":\"20000\",\"respMsg\":\"Success\"}","txnTimeZone":"+08:00","orderCurrency":"EUR","responseTime":"2024-05-21 09:52:03","sign":"fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485","merchantTxnId":"7517512835003047","txnType":"SALE","transactionId":"1792734932368752640","notifyType":"TXN","orderAmount":"500.00","paymentMethod":"VISA","txnTime":"2024-05-21 09:51:45","txnAmount":"","merchantNo":"800277","status":"S","eci":"5"}"#;
    let good = dir.join("good.json");
    std::fs::write(&good, body).unwrap();
    let args = |f: &std::path::Path| {
        vec![
            "webhook".to_owned(),
            "verify".into(),
            "--provider".into(),
            "onerway".into(),
            "--config".into(),
            config.display().to_string(),
            "--body-file".into(),
            f.display().to_string(),
        ]
    };
    let o = Command::new(env!("CARGO_BIN_EXE_preauth"))
        .args(args(&good))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1792734932368752640"), "{}", text(&o));
    assert!(
        text(&o).contains("answer the provider with HTTP 200 \"1792734932368752640\""),
        "{}",
        text(&o)
    );

    let bad = dir.join("bad.json");
    std::fs::write(&bad, body.replace("500.00", "5000.00")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_preauth"))
        .args(args(&bad))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("rejected"), "{}", text(&o));
    assert!(
        !text(&o).contains("de45ae6504ca46cb94ebd734bb650345"),
        "the key is never printed"
    );
}
