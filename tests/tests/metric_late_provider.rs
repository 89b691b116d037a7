//! Instruments created before any meter provider exists are not bound to a no-op: the first
//! call records nothing (there is nowhere to record), the calls after installation do.

#[otel::metric(counter = "late.calls")]
fn called() {}

#[test]
fn instruments_work_once_a_provider_is_installed_after_first_use() {
    called();
    otel::counter!("late.body", 1);
    let capture = otel::testing::capture_metrics();
    called();
    otel::counter!("late.body", 1);
    assert_eq!(
        capture.point("late.calls").value,
        otel::testing::PointValue::Sum(1.0)
    );
}
