// kafka_producer: one librdkafka producer that sends a batch of messages and
// waits for every delivery report.
//
//   shoal::kafka_config cfg;
//   cfg.brokers = "10.0.0.9:9092";
//   auto p = shoal::kafka_producer::create(cfg);      // or an error naming the property
//   std::vector<shoal::kafka_message> batch{{"shop.sku", key, value, {{"id", id}}}};
//   auto error = p->send(batch, [] { return still_running; });
//   if (!error.empty()) ...  // the first message that was not delivered, and why
//
// The producer is idempotent (enable.idempotence: acks=all, retries in order,
// no duplicates from its own retries), and its partitioner is murmur2_random,
// the Java client's: a key goes to the same partition whichever client writes it.
// send() returns once every message of the batch is acknowledged by the
// brokers or has failed for good; a failed batch may be partly delivered, so
// the caller sends it again whole (messages carry an id for consumers to drop
// repeats). Blocking; one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/expected.hpp"

struct rd_kafka_s;

namespace shoal {

struct kafka_config {
  /// bootstrap.servers: "host:port,host:port".
  std::string brokers;
  /// More librdkafka properties (security.protocol, sasl.*, linger.ms, ...).
  std::map<std::string, std::string> properties;
};

struct kafka_message {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

class kafka_producer {
public:
  /// The error names the property librdkafka refused and why.
  static expected<std::unique_ptr<kafka_producer>, std::string>
  create(const kafka_config& config);

  ~kafka_producer();
  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;

  /// Sends `batch` in order and waits for every delivery report, asking
  /// `keep_waiting` about every 100 ms (false: give up). Empty when every
  /// message was delivered; otherwise the first message that failed (topic,
  /// key) and the broker's reason, or "stopped" when keep_waiting said no.
  std::string send(const std::vector<kafka_message>& batch,
                   const std::function<bool()>& keep_waiting);

  /// A fatal error of the idempotent producer (it must be created anew), if any.
  std::string fatal_error();

  /// "kafka BROKERS", for messages.
  const std::string& endpoint() const { return endpoint_; }

private:
  explicit kafka_producer(rd_kafka_s* handle, std::string endpoint);
  rd_kafka_s* rk_;
  std::string endpoint_;
};

} // namespace shoal
