//! A link profile's setup delay (radio bearer setup) is the same on both networks: the
//! simulated network delays AT+NETOPEN's attach by it, and so does the real network's
//! shaper (it used to pass the attach through at once). Virtual time only.
use at7600_core::NetCommand;
use at7600_net::{LinkProfile, Shaper};
use std::time::Duration;

#[test]
fn netopen_on_the_real_network_waits_for_the_profiles_setup() {
    let gprs = LinkProfile::named("gprs").expect("gprs");
    let setup = Duration::from_millis(gprs.setup_ms);
    assert!(!setup.is_zero());
    let mut shaper = Shaper::new(gprs, 1);
    let start = Duration::from_secs(3);
    shaper.command(start, NetCommand::Attach);
    assert_eq!(shaper.poll_command(start), None);
    assert_eq!(shaper.poll_timeout(), Some(start + setup));
    assert_eq!(
        shaper.poll_command(start + setup - Duration::from_millis(1)),
        None
    );
    assert_eq!(shaper.poll_command(start + setup), Some(NetCommand::Attach));
}
