//! Faults a test can script for the next calls of a path; each is answered in the shape of the
//! path's host (dingtalk.md §8.4).

use std::time::Duration;

/// What the fake does instead of (or before) answering a call normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The token is expired: errcode 42001 on oapi, HTTP 400 `InvalidAuthentication` on api.
    TokenExpired,
    /// A QPS limit: errcode 90018 on oapi, HTTP 403
    /// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` on api.
    QpsLimit,
    /// System busy: errcode −1 on oapi, HTTP 500 `system.busy` on api.
    SystemBusy,
    /// This HTTP status with a non-JSON body, as a proxy in front of DingTalk would answer.
    HttpStatus(u16),
    /// Wait this long, then answer normally: a slow DingTalk.
    Delay(Duration),
}

impl Fault {
    /// HTTP 500 from a proxy.
    pub const SERVER_ERROR: Self = Self::HttpStatus(500);
}

/// The errmsg the fake gives a legacy errcode. Clients must log it, never parse it.
pub(crate) fn errmsg(errcode: i64) -> &'static str {
    match errcode {
        0 => "ok",
        -1 => "系统繁忙",
        88 => "鉴权异常",
        40014 => "不合法的access_token",
        42001 => "access_token超时",
        60003 => "部门不存在",
        60121 => "找不到该用户",
        90018 => "当前应用调用该接口并发过高",
        310000 => "sign not match",
        400002 => "参数错误",
        400106 => "robot 不存在",
        _ => "error",
    }
}
