//! The module's real-time clock and time zone (`more-commands.md` §3): `AT+CCLK`,
//! `AT+CTZU`, `AT+CTZR` (with `+CTZV`) and `AT+CNTP`.
//!
//! The core never reads a clock: the runtime gives it the host's UTC at instant zero
//! ([`crate::ModemConfig::utc_ms`]) and the clock runs on with `now`. Setting it stores
//! an offset from that, so it keeps running.

use super::{Failure, Modem, Step};
use crate::config::Personality;
use crate::parser::Form;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Quarter hours a zone may be off UTC.
const TZ_RANGE: std::ops::RangeInclusive<i64> = -96..=96;

/// `<tz>` as a quarter-hour count, in range.
fn parse_tz(text: &str) -> Option<i8> {
    let v: i64 = text.trim().parse().ok()?;
    TZ_RANGE.contains(&v).then_some(v as i8)
}

/// `"yy/MM/dd,hh:mm:ss"` with an optional `±zz`: the local time and the zone.
fn parse_cclk(text: &str) -> Option<(PrimitiveDateTime, Option<i8>)> {
    let (stamp, tz) = match text.get(17..) {
        Some("") => (text, None),
        Some(zone) if zone.starts_with(['+', '-']) => (&text[..17], Some(parse_tz(zone)?)),
        _ => return None,
    };
    let b = stamp.as_bytes();
    let separators = [(2, b'/'), (5, b'/'), (8, b','), (11, b':'), (14, b':')];
    if b.len() != 17 || separators.iter().any(|(i, c)| b[*i] != *c) {
        return None;
    }
    let field = |i: usize| -> Option<u8> {
        let digits = stamp.get(i..i + 2)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let month = Month::try_from(field(3)?).ok()?;
    let date = Date::from_calendar_date(2000 + i32::from(field(0)?), month, field(6)?).ok()?;
    let time = Time::from_hms(field(9)?, field(12)?, field(15)?).ok()?;
    Some((PrimitiveDateTime::new(date, time), tz))
}

fn offset(tz: i8) -> UtcOffset {
    UtcOffset::from_whole_seconds(i32::from(tz) * 900).unwrap_or(UtcOffset::UTC)
}

/// `yy/MM/dd,hh:mm:ss` of a date-time.
fn stamp(t: OffsetDateTime) -> String {
    format!(
        "{:02}/{:02}/{:02},{:02}:{:02}:{:02}",
        t.year().rem_euclid(100),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Modem {
    pub(super) fn cmd_clock(&mut self, name: &str, form: &Form) -> Step {
        match name {
            "+CCLK" => self.cmd_cclk(form),
            "+CTZU" => match form {
                Form::Execute => Step::Fail(Failure::Param),
                _ => self.numeric_setting(form, "+CTZU", 0..=1, 0, |m| &mut m.s.ctzu),
            },
            "+CTZR" => self.numeric_setting(form, "+CTZR", 0..=1, 0, |m| &mut m.s.ctzr),
            _ => self.cmd_cntp(form),
        }
    }

    /// The host's UTC is `utc_ms` at `now` (see [`crate::Input::WallClock`]).
    pub fn set_wall_clock(&mut self, now: super::Instant, utc_ms: u64) {
        self.advance(now);
        let elapsed = u64::try_from(self.now.as_millis()).unwrap_or(u64::MAX);
        self.config.utc_ms = utc_ms.saturating_sub(elapsed);
    }

    /// The network's time (the host's UTC) in milliseconds since the Unix epoch.
    fn network_utc_ms(&self) -> i128 {
        i128::from(self.config.utc_ms) + self.now.as_millis() as i128
    }

    /// What the module's clock shows, in UTC.
    pub(super) fn clock_utc(&self) -> OffsetDateTime {
        let ms = self.network_utc_ms() + i128::from(self.dev.clock_offset_ms);
        OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The clock takes network time and zone `tz` (NITZ, `AT+CNTP`).
    pub(super) fn network_time(&mut self, tz: i8) {
        self.dev.clock_offset_ms = 0;
        self.dev.clock_tz = tz;
    }

    /// The network's zone changed (control interface): `+CTZV` with `AT+CTZR=1`, the
    /// clock follows with `AT+CTZU=1`.
    pub(super) fn zone_changed(&mut self, tz: i8) {
        if self.s.ctzr == 1 {
            let utc = OffsetDateTime::from_unix_timestamp_nanos(self.network_utc_ms() * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let zone = match self.config.identity.personality {
                Personality::Sim7600 => format!("{tz}"),
                Personality::A76xx => format!("{tz:+}"),
            };
            self.urc(&format!("+CTZV: {zone},{},0", stamp(utc)));
        }
        if self.s.ctzu == 1 {
            self.network_time(tz);
        }
    }

    fn cmd_cclk(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let tz = self.dev.clock_tz;
                let local = self.clock_utc().to_offset(offset(tz));
                self.info_step(&format!("+CCLK: \"{}{tz:+03}\"", stamp(local)))
            }
            Form::Test => Step::Next,
            Form::Write(args) => {
                let parsed = match args.as_slice() {
                    [a] if a.quoted => parse_cclk(a.str()),
                    _ => None,
                };
                let Some((local, tz)) = parsed else {
                    return Step::Fail(Failure::Param);
                };
                let tz = tz.unwrap_or(self.dev.clock_tz);
                let set = local.assume_offset(offset(tz));
                let set_ms = set.unix_timestamp_nanos() / 1_000_000;
                let delta = set_ms - self.network_utc_ms();
                self.dev.clock_offset_ms = delta.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
                self.dev.clock_tz = tz;
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    /// `AT+CNTP`: the host's clock is the time server (no packet is exchanged).
    fn cmd_cntp(&mut self, form: &Form) -> Step {
        let a76xx = self.config.identity.personality == Personality::A76xx;
        match form {
            Form::Read => {
                let (host, tz) = &self.s.cntp;
                let line = format!("+CNTP: \"{host}\",{tz}");
                self.info_step(&line)
            }
            Form::Test if a76xx => self.info_step("+CNTP: \"HOST\",(-96~96)"),
            Form::Test => self.info_step("+CNTP: 255,(-96~96)"),
            Form::Write(args) => {
                let default_tz = if a76xx { 32 } else { 0 };
                let tz = match args.get(1) {
                    None => Some(default_tz),
                    Some(a) if a.quoted => None,
                    Some(a) => parse_tz(a.str()),
                };
                let host = args.first().map(|a| a.str()).unwrap_or_default();
                let host_ok = (1..=255).contains(&host.len())
                    && super::general::printable(host)
                    && !host.contains('"');
                match tz {
                    Some(tz) if host_ok && args.len() <= 2 => {
                        self.s.cntp = (host.to_string(), tz);
                        Step::Next
                    }
                    _ => Step::Fail(Failure::Param),
                }
            }
            Form::Execute => {
                if self.s.cntp.0.is_empty() {
                    return Step::Fail(Failure::Param);
                }
                let code = if self.pdp_active() {
                    self.network_time(self.s.cntp.1);
                    0
                } else {
                    4
                };
                self.urc(&format!("+CNTP: {code}"));
                Step::Next
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cclk_strings_parse_only_when_valid() {
        assert!(parse_cclk("24/05/17,10:15:02+32").is_some());
        assert!(parse_cclk("24/05/17,10:15:02").is_some_and(|(_, tz)| tz.is_none()));
        assert!(parse_cclk("24/05/17,10:15:02-20").is_some_and(|(_, tz)| tz == Some(-20)));
        for bad in [
            "24/02/30,10:15:02+32",
            "24/13/01,10:15:02",
            "24/05/17,24:00:00",
            "24/05/17,10:15:02+97",
            "24/05/17 10:15:02",
            "24/5/17,10:15:02",
            "24/05/17,10:15:02+",
            "",
        ] {
            assert!(parse_cclk(bad).is_none(), "{bad}");
        }
    }
}
