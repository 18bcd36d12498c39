#include "actors/token/core/upstream_error.hpp"

namespace shoal::token {

bool is_retryable(error_class kind) {
  switch (kind) {
  case error_class::timeout:
  case error_class::transport:
  case error_class::server_error:
  case error_class::busy:
  case error_class::malformed:
  case error_class::rate_limited:
  case error_class::refresh_limited:
  case error_class::input_rejected:
  case error_class::unknown:
    return true;
  case error_class::quota_exhausted:
  case error_class::rejected_token:
  case error_class::config:
    return false;
  }
  return false;
}

std::string_view to_string(error_class kind) {
  switch (kind) {
  case error_class::timeout:
    return "timeout";
  case error_class::transport:
    return "transport";
  case error_class::server_error:
    return "server_error";
  case error_class::busy:
    return "busy";
  case error_class::malformed:
    return "malformed";
  case error_class::rate_limited:
    return "rate_limited";
  case error_class::quota_exhausted:
    return "quota_exhausted";
  case error_class::refresh_limited:
    return "refresh_limited";
  case error_class::rejected_token:
    return "rejected_token";
  case error_class::config:
    return "config";
  case error_class::input_rejected:
    return "input_rejected";
  case error_class::unknown:
    return "unknown";
  }
  return "unknown";
}

bool is_rejected_token_code(long long errcode) {
  return errcode == 40001 || errcode == 40014 || errcode == 42001;
}

error_class classify_errcode(long long errcode) {
  switch (errcode) {
  case -1:
    return error_class::busy;
  case 40001:
  case 40014:
  case 42001:
    return error_class::rejected_token;
  case 40002: // invalid grant_type
  case 40013: // invalid appid
  case 40125: // invalid appsecret
  case 40164: // caller IP not in the whitelist
  case 40243: // appsecret frozen
  case 41002: // appid missing
  case 41004: // appsecret missing
  case 89503: // this IP needs an administrator's confirmation
  case 89506: // this IP was refused by an administrator
  case 89507: // this IP is blocked for a while
    return error_class::config;
  case 45009: // daily quota reached
    return error_class::quota_exhausted;
  case 45011: // minute quota reached
    return error_class::rate_limited;
  default:
    break;
  }
  if (errcode >= 42000 && errcode < 43000)
    return error_class::rejected_token;
  if (errcode >= 45000 && errcode < 46000)
    return error_class::rate_limited;
  if ((errcode >= 40000 && errcode < 50000) || (errcode >= 89000 && errcode < 90000))
    return error_class::config;
  return error_class::unknown;
}

} // namespace shoal::token
