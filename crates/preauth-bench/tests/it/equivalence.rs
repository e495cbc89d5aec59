//! Library and baseline, side by side on each provider's canned traffic.

use preauth_bench::baseline::Base;
use preauth_bench::fixture::{Canned, Provider, record};
use preauth_bench::library::Lib;

async fn canned(p: Provider) -> Canned {
    record(p)
        .await
        .unwrap_or_else(|e| panic!("{p:?}: the simulator refused the baseline: {e}"))
}

#[track_caller]
fn same_bytes(what: &str, library: &[u8], baseline: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(library),
        String::from_utf8_lossy(baseline),
        "{what}: the baseline's body differs from the library's"
    );
}

#[tokio::test]
async fn baseline_sends_the_same_bytes_and_reads_the_same_answers() {
    for p in Provider::ALL {
        let c = canned(p).await;
        let lib = Lib::new(&c).unwrap();
        let base = Base::new(&c).unwrap();

        let (lreq, lhold) = lib.authorize().unwrap();
        let (breq, bhold) = base.authorize().unwrap();
        assert_eq!(lreq.url(), breq.url, "{p:?} authorize url");
        same_bytes(&format!("{p:?} authorize"), lreq.body_bytes(), &breq.body);
        assert_eq!(lhold.status.as_str(), bhold.status.as_str(), "{p:?}");
        assert_eq!(lhold.status.as_str(), "authorized", "{p:?}");
        assert_eq!(lhold.provider_reference, bhold.reference, "{p:?}");
        assert_eq!(
            lhold.authorized.to_minor_units().unwrap(),
            bhold.authorized_minor,
            "{p:?}"
        );

        let (lreq, lhold) = lib.capture().unwrap();
        let (breq, bhold) = base.capture().unwrap();
        assert_eq!(lreq.url(), breq.url, "{p:?} capture url");
        same_bytes(&format!("{p:?} capture"), lreq.body_bytes(), &breq.body);
        assert_eq!(lhold.status.as_str(), "captured", "{p:?}");
        assert_eq!(lhold.status.as_str(), bhold.status.as_str(), "{p:?}");
        assert_eq!(
            lhold.captured.to_minor_units().unwrap(),
            bhold.captured_minor,
            "{p:?}"
        );
        assert_eq!(bhold.captured_minor, c.order.amount_minor, "{p:?}");

        let n = lib.webhook().unwrap();
        let e = base.webhook().unwrap();
        assert_eq!(
            n.hold.provider_reference.as_deref(),
            Some(e.reference.as_str()),
            "{p:?}"
        );
        assert_eq!(
            n.status.map(|s| s.as_str()),
            e.status.map(|s| s.as_str()),
            "{p:?}"
        );
        assert_eq!(
            n.amount.map(|m| m.to_minor_units().unwrap()),
            e.amount_minor,
            "{p:?}"
        );
    }
}

#[tokio::test]
async fn both_refuse_a_tampered_notification() {
    for p in Provider::ALL {
        let mut c = canned(p).await;
        let body = String::from_utf8(c.webhook_body.clone()).unwrap();
        assert!(body.contains("300"), "{p:?}: {body}");
        c.webhook_body = body.replacen("300", "301", 1).into_bytes();
        assert!(Lib::new(&c).unwrap().webhook().is_err(), "{p:?} library");
        assert!(Base::new(&c).unwrap().webhook().is_err(), "{p:?} baseline");
    }
}
