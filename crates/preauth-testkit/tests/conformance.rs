//! The reference provider passes the whole conformance suite, and providers swap behind
//! `Arc<dyn PreauthProvider>`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use preauth_core::{CaptureRequest, Currency, HoldStatus, Money, PreauthProvider};
use preauth_testkit::harness::{Harness, cards};
use preauth_testkit::{ReferenceHarness, ReferenceProvider};

async fn reference() -> ReferenceHarness {
    ReferenceHarness::new()
}

preauth_testkit::conformance_tests!(reference);

/// Business code written once against the trait object.
async fn check_in_and_out(p: Arc<dyn PreauthProvider>, h: &dyn Harness) -> HoldStatus {
    let amount = Money::parse_major("200.00", Currency::EUR).unwrap();
    let hold = p
        .authorize(h.authorize_request(amount, cards::APPROVE))
        .await
        .unwrap();
    let extras = Money::parse_major("150.00", Currency::EUR).unwrap();
    p.capture(CaptureRequest::new(hold).with_amount(extras))
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn providers_swap_at_run_time_behind_arc_dyn() {
    let a = ReferenceHarness::new();
    let b = ReferenceHarness::new();
    let providers: Vec<Arc<dyn PreauthProvider>> = vec![
        a.provider(),
        Arc::new(ReferenceProvider::new(b.control().clone())),
    ];
    for p in providers {
        assert_eq!(
            check_in_and_out(p.clone(), &a).await,
            HoldStatus::Captured,
            "{}",
            p.name()
        );
    }
}

#[test]
fn every_scenario_is_listed() {
    let src = include_str!("../src/conformance.rs");
    for name in preauth_testkit::conformance::SCENARIOS {
        assert!(
            src.contains(&format!("pub async fn {name}(")),
            "{name} has a scenario function"
        );
        assert!(
            src.contains(&format!("            {name},"))
                || src.contains(&format!("            {name}\n")),
            "{name} is in the macro"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_survives_the_soak() {
    let h: Arc<dyn Harness> = Arc::new(ReferenceHarness::new());
    let r = preauth_testkit::soak::run(h, preauth_testkit::soak::SoakConfig::default()).await;
    assert_eq!(r.flows, 2000);
    assert!(r.captured > 1500, "{r}");
}
