// upstream_error: why a call to a token endpoint did not yield a token.
//
// Every failure the fetcher can see (transport, HTTP status, platform errcode,
// malformed reply) is classified into one `error_class`, which decides what the
// keeper does next: retry with backoff, stop and report, wait for the next UTC day,
// or fall back from a forced refresh to a normal one. The message never contains a
// secret: it is built from field names, codes and the platform's own errmsg.

#pragma once

#include <string>
#include <string_view>

namespace shoal::token {

/// What kind of failure, from the keeper's point of view.
enum class error_class {
  /// No reply within the deadline (connect or read). Retryable.
  timeout,
  /// Connection refused, reset, TLS failure. Retryable.
  transport,
  /// HTTP 5xx. Retryable.
  server_error,
  /// The platform said it is busy (errcode -1). Retryable.
  busy,
  /// The reply was not the JSON we expect (bad syntax, missing field, wrong type).
  /// Retryable: proxies and overloaded gateways produce these.
  malformed,
  /// Calls too frequent (errcode 45011, HTTP 429). Retryable after a longer pause.
  rate_limited,
  /// The daily call quota is used up (errcode 45009). Retry on the next UTC day.
  quota_exhausted,
  /// A stable_token force_refresh hit its own limit (count per day, minimum
  /// interval). Retry without force_refresh.
  refresh_limited,
  /// The platform rejected the credential (40001, 40014, 42001). From the token
  /// endpoint itself this means the secret is wrong or outdated: not retryable.
  rejected_token,
  /// Configuration is wrong (invalid appid 40013, invalid secret 40125, IP not
  /// whitelisted 40164, OAuth2 invalid_client ...). Not retryable: report it.
  config,
  /// The platform refused the input the request was built from, not the
  /// provider's own credential: the base access token of a jsapi_ticket request
  /// (40001, 40014, 42001) or the component_verify_ticket of a component request
  /// (61005 expired, 61006 invalid). Retryable once a newer input is there.
  input_rejected,
  /// An errcode we do not know. Retryable with backoff; the message keeps the
  /// platform's errmsg so an operator can look it up.
  unknown,
};

/// A classified failure. `code` is the platform errcode or HTTP status when there is
/// one, otherwise 0.
struct upstream_error {
  error_class kind = error_class::unknown;
  int code = 0;
  std::string message;
};

/// True when trying again later with the same configuration may succeed.
bool is_retryable(error_class kind);

/// A stable lowercase name, for logs and metrics ("timeout", "quota_exhausted" ...).
std::string_view to_string(error_class kind);

/// Classifies a nonzero WeChat-style errcode. Known codes map to their class; unknown
/// ones by range: 42xxx rejected_token, 45xxx rate_limited, other 4xxxx and 89xxx
/// config, everything else unknown.
error_class classify_errcode(long long errcode);

/// True for the codes an application sees when the access token it used is no longer
/// accepted (40001, 40014, 42001): the trigger for `rejected(provider, token)`.
bool is_rejected_token_code(long long errcode);

} // namespace shoal::token
