#include "runtime/adapters/kafka_producer.hpp"

#include <atomic>

#include <librdkafka/rdkafka.h>

namespace shoal {

namespace {

// What the delivery reports of one send() say; each message points at it.
struct batch_state {
  size_t pending = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* state = static_cast<batch_state*>(m->_private);
  if (!state)
    return;
  if (m->err && state->first_error.empty()) {
    std::string key(static_cast<const char*>(m->key), m->key_len);
    state->first_error = std::string{"topic "} + rd_kafka_topic_name(m->rkt) + ", key " +
                         key + ": " + rd_kafka_err2str(m->err);
  }
  --state->pending;
}

} // namespace

expected<std::unique_ptr<kafka_producer>, std::string>
kafka_producer::create(const kafka_config& config) {
  char err[512] = {};
  auto* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK)
      return std::string{"kafka property "} + name + "=\"" + value + "\": " + err;
    return std::string{};
  };
  std::vector<std::pair<std::string, std::string>> props{
      {"bootstrap.servers", config.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"}};
  for (auto& p : config.properties)
    props.emplace_back(p.first, p.second);
  for (auto& [name, value] : props)
    if (auto e = set(name, value); !e.empty()) {
      rd_kafka_conf_destroy(conf);
      return fail(e);
    }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return fail(std::string{"kafka producer for "} + config.brokers + ": " + err);
  }
  return std::unique_ptr<kafka_producer>{
      new kafka_producer{rk, "kafka " + config.brokers}};
}

kafka_producer::kafka_producer(rd_kafka_s* handle, std::string endpoint)
    : rk_(handle), endpoint_(std::move(endpoint)) {}

kafka_producer::~kafka_producer() {
  // Messages still queued are dropped: their batch was not confirmed to anyone.
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_, 1000);
  rd_kafka_destroy(rk_);
}

std::string kafka_producer::fatal_error() {
  char err[512] = {};
  if (rd_kafka_fatal_error(rk_, err, sizeof err) == RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  return err;
}

std::string kafka_producer::send(const std::vector<kafka_message>& batch,
                                 const std::function<bool()>& keep_waiting) {
  batch_state state;
  for (auto& m : batch) {
    std::vector<rd_kafka_vu_t> vu;
    vu.push_back({});
    vu.back().vtype = RD_KAFKA_VTYPE_TOPIC;
    vu.back().u.cstr = m.topic.c_str();
    vu.push_back({});
    vu.back().vtype = RD_KAFKA_VTYPE_KEY;
    vu.back().u.mem.ptr = const_cast<char*>(m.key.data());
    vu.back().u.mem.size = m.key.size();
    vu.push_back({});
    vu.back().vtype = RD_KAFKA_VTYPE_VALUE;
    vu.back().u.mem.ptr = const_cast<char*>(m.value.data());
    vu.back().u.mem.size = m.value.size();
    vu.push_back({});
    vu.back().vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu.back().u.i = RD_KAFKA_MSG_F_COPY;
    vu.push_back({});
    vu.back().vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu.back().u.ptr = &state;
    for (auto& [name, value] : m.headers) {
      vu.push_back({});
      vu.back().vtype = RD_KAFKA_VTYPE_HEADER;
      vu.back().u.header.name = name.c_str();
      vu.back().u.header.val = value.data();
      vu.back().u.header.size = static_cast<ssize_t>(value.size());
    }
    for (;;) {
      auto* error = rd_kafka_produceva(rk_, vu.data(), vu.size());
      if (!error) {
        ++state.pending;
        break;
      }
      auto code = rd_kafka_error_code(error);
      std::string why = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Those already queued must not report into a state that is gone.
        while (state.pending > 0 && keep_waiting())
          rd_kafka_poll(rk_, 100);
        if (state.pending > 0) {
          rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
          rd_kafka_flush(rk_, 5000);
        }
        return "topic " + m.topic + ", key " + m.key + ": " + why;
      }
      rd_kafka_poll(rk_, 100);
    }
  }
  while (state.pending > 0) {
    rd_kafka_poll(rk_, 100);
    if (state.pending > 0 && !keep_waiting()) {
      // Nothing may report into `state` after it is gone.
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      while (state.pending > 0)
        rd_kafka_poll(rk_, 100);
      return "stopped";
    }
  }
  return state.first_error;
}

} // namespace shoal
