//! Managed Kubernetes maintenance policies (reference §3.5): Terraform's
//! `maintenance_policy {auto_upgrade, auto_repair, maintenance_window [{day, start_time,
//! duration}]}` ⇄ the API's `maintenancePolicy` with an `anytime`, daily or weekly window.

use crate::convert::Obj;
use mlstack_provider_api::{PathStep, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// `"15:00"` → `{hours, minutes, seconds, nanos}`.
fn time_of_day(s: &str) -> Json {
    let mut parts = s.trim().split(':');
    let h: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let m: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    json!({"hours": h, "minutes": m, "seconds": 0, "nanos": 0})
}

fn time_text(t: Option<&Json>) -> String {
    let n = |k: &str| {
        t.and_then(|t| t.get(k))
            .and_then(crate::convert::int)
            .unwrap_or(0)
    };
    format!("{:02}:{:02}", n("hours"), n("minutes"))
}

/// A duration in seconds from `"3h"` (the stack) or `"10800s"` (the wire).
fn seconds(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(n) = s.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()) {
        return Some(n as u64);
    }
    humantime::parse_duration(s).ok().map(|d| d.as_secs())
}

/// The canonical form of a duration in the stack (`"3h"`, `"1h 30m"`).
fn duration_text(secs: u64) -> String {
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

/// The API's `maintenanceWindow` for Terraform's list of windows.
fn window_to_api(windows: &[Json]) -> Json {
    let item = |w: &Json| {
        let dur = w
            .get("duration")
            .and_then(Json::as_str)
            .and_then(seconds)
            .unwrap_or(3600);
        (
            time_of_day(
                w.get("start_time")
                    .and_then(Json::as_str)
                    .unwrap_or("00:00"),
            ),
            format!("{dur}s"),
        )
    };
    if windows.is_empty() {
        return json!({"anytime": {}});
    }
    if windows.iter().all(|w| w.get("day").is_none()) {
        let (start, dur) = item(&windows[0]);
        return json!({"dailyMaintenanceWindow": {"startTime": start, "duration": dur}});
    }
    let mut days: Vec<Json> = Vec::new();
    for w in windows {
        let (start, dur) = item(w);
        let day = w
            .get("day")
            .and_then(Json::as_str)
            .unwrap_or("monday")
            .to_ascii_uppercase();
        match days
            .iter_mut()
            .find(|d| d["startTime"] == start && d["duration"] == dur)
        {
            Some(d) => {
                if let Some(list) = d["days"].as_array_mut() {
                    list.push(json!(day));
                }
            }
            None => days.push(json!({"days": [day], "startTime": start, "duration": dur})),
        }
    }
    json!({"weeklyMaintenanceWindow": {"daysOfWeek": days}})
}

fn window_from_api(w: Option<&Json>) -> Json {
    let Some(w) = w else { return Json::Null };
    let dur = |d: &Json| {
        d.get("duration")
            .and_then(Json::as_str)
            .and_then(seconds)
            .map(duration_text)
            .unwrap_or_default()
    };
    if let Some(d) = w.get("dailyMaintenanceWindow") {
        return json!([{"start_time": time_text(d.get("startTime")), "duration": dur(d)}]);
    }
    if let Some(wk) = w.get("weeklyMaintenanceWindow") {
        let mut out = Vec::new();
        for d in wk
            .get("daysOfWeek")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            for day in d.get("days").and_then(Json::as_array).into_iter().flatten() {
                out.push(json!({
                    "day": day.as_str().unwrap_or("").to_ascii_lowercase(),
                    "start_time": time_text(d.get("startTime")),
                    "duration": dur(d),
                }));
            }
        }
        return Json::Array(out);
    }
    Json::Null
}

/// Terraform's `maintenance_policy` → the API's `maintenancePolicy` (None: leave unset).
pub fn to_api(p: Option<&Json>, with_repair: bool) -> Json {
    let Some(p) = p.filter(|p| p.is_object()) else {
        return Json::Null;
    };
    let windows: Vec<Json> = p
        .get("maintenance_window")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let mut o = Obj::new().copy("autoUpgrade", p, "auto_upgrade");
    if with_repair {
        o = o.copy("autoRepair", p, "auto_repair");
    }
    o.set("maintenanceWindow", window_to_api(&windows)).build()
}

/// The API's `maintenancePolicy` → Terraform's `maintenance_policy`.
pub fn from_api(p: Option<&Json>, with_repair: bool) -> Json {
    let Some(p) = p.filter(|p| p.is_object()) else {
        return Json::Null;
    };
    let mut o = Obj::new().set(
        "auto_upgrade",
        json!(p
            .get("autoUpgrade")
            .and_then(Json::as_bool)
            .unwrap_or(false)),
    );
    if with_repair {
        o = o.set(
            "auto_repair",
            json!(p.get("autoRepair").and_then(Json::as_bool).unwrap_or(false)),
        );
    }
    o.set(
        "maintenance_window",
        window_from_api(p.get("maintenanceWindow")),
    )
    .build()
}

/// Canonical start times and durations in the windows at `policy` (a path to a
/// `maintenance_policy`), so `"3:00"`/`"180m"` plan like `"03:00"`/`"3h"`.
pub fn normalize(attrs: &mut Value, policy: &[&str]) {
    let mut path: Vec<PathStep> = policy
        .iter()
        .map(|k| PathStep::Key(k.to_string()))
        .collect();
    path.push(PathStep::Key("maintenance_window".into()));
    let Some(Value::List(windows)) = attrs.get_path(&path) else {
        return;
    };
    let fixed: Vec<Value> = windows
        .into_iter()
        .map(|mut w| {
            if let Some(s) = w
                .get("start_time")
                .and_then(Value::as_str)
                .map(str::to_string)
            {
                let t = time_of_day(&s);
                w.set_path(
                    &[PathStep::Key("start_time".into())],
                    Value::from(time_text(Some(&t))),
                );
            }
            if let Some(d) = w.get("duration").and_then(Value::as_str).and_then(seconds) {
                w.set_path(
                    &[PathStep::Key("duration".into())],
                    Value::from(duration_text(d)),
                );
            }
            w
        })
        .collect();
    attrs.set_path(&path, Value::List(fixed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_round_trip() {
        let tf = json!({"auto_upgrade": true, "auto_repair": true, "maintenance_window": [
            {"day": "monday", "start_time": "15:00", "duration": "3h"},
            {"day": "friday", "start_time": "15:00", "duration": "3h"}]});
        let api = to_api(Some(&tf), true);
        assert_eq!(
            api["maintenanceWindow"]["weeklyMaintenanceWindow"]["daysOfWeek"][0]["days"],
            json!(["MONDAY", "FRIDAY"])
        );
        assert_eq!(
            api["maintenanceWindow"]["weeklyMaintenanceWindow"]["daysOfWeek"][0]["duration"],
            "10800s"
        );
        assert_eq!(from_api(Some(&api), true), tf);
        let daily = json!({"auto_upgrade": false, "maintenance_window": [{"start_time": "03:00", "duration": "1h 30m"}]});
        assert_eq!(from_api(Some(&to_api(Some(&daily), false)), false), daily);
        let any = to_api(Some(&json!({"auto_upgrade": true})), false);
        assert_eq!(
            any,
            json!({"autoUpgrade": true, "maintenanceWindow": {"anytime": {}}})
        );
        assert_eq!(from_api(Some(&any), false), json!({"auto_upgrade": true}));
    }

    #[test]
    fn spellings_are_normalized() {
        let mut v = Value::from(
            json!({"mp": {"maintenance_window": [{"start_time": "3:00", "duration": "180m"}]}}),
        );
        normalize(&mut v, &["mp"]);
        assert_eq!(
            v.to_json_unmarked(),
            json!({"mp": {"maintenance_window": [{"start_time": "03:00", "duration": "3h"}]}})
        );
    }
}
