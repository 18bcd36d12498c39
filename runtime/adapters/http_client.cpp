#include "runtime/adapters/http_client.hpp"

#include <exception>
#include <regex>

#include <httplib.h>

namespace shoal {

namespace {

template <class Rep, class Period>
std::pair<time_t, time_t> split(std::chrono::duration<Rep, Period> d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

std::string check_base_url(const std::string& url) {
  static const std::regex pattern(
      R"(^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?/?$)");
  if (!std::regex_match(url, pattern))
    return "invalid base URL (expected http(s)://host[:port])";
  return {};
}

} // namespace

std::string path_without_query(const std::string& target) {
  return target.substr(0, target.find('?'));
}

http_client::http_client(std::string base_url, http_client_options options)
    : base_url_(std::move(base_url)), options_(std::move(options)) {
  url_problem_ = check_base_url(base_url_);
  if (!url_problem_.empty())
    return;
  try {
    auto url = base_url_;
    if (url.back() == '/')
      url.pop_back();
    client_ = std::make_unique<httplib::Client>(url);
    auto [cs, cus] = split(options_.connect_timeout);
    client_->set_connection_timeout(cs, cus);
    auto [rs, rus] = split(options_.read_timeout);
    client_->set_read_timeout(rs, rus);
    auto [ws, wus] = split(options_.write_timeout);
    client_->set_write_timeout(ws, wus);
    client_->set_keep_alive(true);
    client_->enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_file.empty())
      client_->set_ca_cert_path(options_.ca_file.c_str());
  } catch (const std::exception& e) {
    client_.reset();
    url_problem_ = std::string("cannot create client: ") + e.what();
  }
}

http_client::~http_client() = default;

http_error http_client::failure(http_error_kind kind, const http_request& request,
                                const std::string& why) const {
  return {kind, request.method + " " + base_url_ + path_without_query(request.target) +
                    ": " + why};
}

std::variant<http_response, http_error> http_client::send(const http_request& request) {
  if (!client_)
    return failure(http_error_kind::invalid_request, request, url_problem_);
  if (request.method != "GET" && request.method != "POST")
    return failure(http_error_kind::invalid_request, request, "unsupported method");
  try {
    httplib::Headers headers(request.headers.begin(), request.headers.end());
    auto started = std::chrono::steady_clock::now();
    auto res = request.method == "GET"
                   ? client_->Get(request.target.c_str(), headers)
                   : client_->Post(request.target.c_str(), headers, request.body,
                                   request.content_type.c_str());
    if (res)
      return http_response{res->status, std::move(res->body)};
    auto elapsed = std::chrono::steady_clock::now() - started;
    auto ms = [](auto d) {
      return std::to_string(
                 std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
             " ms";
    };
    switch (res.error()) {
    case httplib::Error::ConnectionTimeout:
      return failure(http_error_kind::timeout, request,
                     "connect timeout after " + ms(elapsed));
    case httplib::Error::Connection:
      return failure(http_error_kind::connect, request, "cannot connect");
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return failure(http_error_kind::connect, request,
                     "TLS failure: " + httplib::to_string(res.error()));
    case httplib::Error::Read:
      // cpp-httplib reports a read timeout as a read error; the elapsed time tells.
      if (elapsed + std::chrono::milliseconds(10) >= options_.read_timeout)
        return failure(http_error_kind::timeout, request,
                       "no reply within " + ms(options_.read_timeout));
      return failure(http_error_kind::io, request, "connection broke while reading");
    default:
      return failure(http_error_kind::io, request, httplib::to_string(res.error()));
    }
  } catch (const std::exception& e) {
    return failure(http_error_kind::io, request, std::string("unexpected: ") + e.what());
  }
}

} // namespace shoal
