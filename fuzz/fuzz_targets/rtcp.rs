//! Any datagram on a call's RTCP port: read as the far end's report or
//! refused, never a panic; the call's own report still builds after it.
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use media::rtp::rtcp::Rtcp;

fuzz_target!(|data: &[u8]| {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut rtcp = Rtcp::new(7, "fuzz@127.0.0.1", now);
    rtcp.on_rtp(9, 1, 160, now);
    let _ = rtcp.on_rtcp(data, now + Duration::from_millis(5), wall);
    let report = rtcp.report(now + Duration::from_millis(10), wall, (10, 1_600), 1_760, true);
    assert!(!report.is_empty(), "our own report always codes");
    let _ = rtcp.quality();
});
