// kafka_mock_cluster: librdkafka's in-process mock cluster as a process, for
// bench/binlog/streams (no Kafka broker is packaged for Debian). It creates
// the topics, prints "bootstrap HOST:PORT,..." on stdout, then serves until
// stdin closes or it is killed. With --count TOPIC N it instead waits until
// TOPIC holds N messages in all (from a consumer at its start) and prints the
// seconds that took, for timing a producer against it.
//
//   kafka_mock_cluster --brokers 3 --partitions 4 topic1 topic2 ...
//   kafka_mock_cluster --bootstrap HOST:PORT,... --partitions 4 --count topic 64
//
// Its throughput is an in-memory broker's, on the same machine: a lower bound
// of what a producer does, not a Kafka cluster's figure.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

int usage() {
  std::cerr << "usage: kafka_mock_cluster [--brokers N] [--partitions N] TOPIC...\n"
               "       kafka_mock_cluster --bootstrap SERVERS [--partitions N] --count "
               "TOPIC N [--timeout S]\n";
  return 2;
}

int serve(int brokers, int partitions, const std::vector<std::string>& topics) {
  char err[512];
  auto* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(),
                        err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::cerr << "kafka_mock_cluster: " << err << "\n";
    return 1;
  }
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "kafka_mock_cluster: " << err << "\n";
    return 1;
  }
  auto* cluster = rd_kafka_handle_mock_cluster(rk);
  for (auto& t : topics)
    if (rd_kafka_mock_topic_create(cluster, t.c_str(), partitions,
                                   std::min(brokers, 3))) {
      std::cerr << "kafka_mock_cluster: cannot create topic " << t << "\n";
      return 1;
    }
  std::cout << "bootstrap " << rd_kafka_mock_cluster_bootstraps(cluster) << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  rd_kafka_destroy(rk);
  return 0;
}

int count(const std::string& bootstrap, const std::string& topic, int partitions,
          long want, int timeout_s) {
  char err[512];
  auto* conf = rd_kafka_conf_new();
  for (auto [k, v] : {std::pair{"bootstrap.servers", bootstrap},
                      std::pair{"group.id", std::string{"kafka-mock-count"}},
                      std::pair{"auto.offset.reset", std::string{"earliest"}},
                      std::pair{"enable.auto.commit", std::string{"false"}}})
    rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err);
  auto* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "kafka_mock_cluster: " << err << "\n";
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  // Assigned, not subscribed: a group join would add seconds to the timing.
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::seconds{timeout_s};
  long seen = 0;
  while (seen < want && std::chrono::steady_clock::now() < deadline) {
    auto* m = rd_kafka_consumer_poll(rk, 5);
    if (!m)
      continue;
    if (!m->err)
      ++seen;
    rd_kafka_message_destroy(m);
  }
  auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (seen < want) {
    std::cerr << "kafka_mock_cluster: " << seen << " of " << want << " messages of "
              << topic << " after " << timeout_s << " s\n";
    return 1;
  }
  std::printf("%.3f\n", s);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  int partitions = 4;
  int timeout_s = 600;
  std::string bootstrap;
  std::string count_topic;
  long count_n = 0;
  std::vector<std::string> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--brokers")
      brokers = std::atoi(next().c_str());
    else if (a == "--partitions")
      partitions = std::atoi(next().c_str());
    else if (a == "--bootstrap")
      bootstrap = next();
    else if (a == "--timeout")
      timeout_s = std::atoi(next().c_str());
    else if (a == "--count") {
      count_topic = next();
      count_n = std::atol(next().c_str());
    } else if (a.rfind("--", 0) == 0)
      return usage();
    else
      topics.push_back(a);
  }
  if (!count_topic.empty())
    return bootstrap.empty() || count_n <= 0
               ? usage()
               : count(bootstrap, count_topic, partitions, count_n, timeout_s);
  if (brokers < 1 || partitions < 1)
    return usage();
  return serve(brokers, partitions, topics);
}
