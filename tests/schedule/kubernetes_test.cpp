// The kubernetes runner: an A/B event rendered as the objects a cluster
// runs (image, commands, ports, volumes, anti-affinity, labels, probes),
// every one valid against the Kubernetes API schema (checked offline by
// node and kubernetes-models: no API server is reachable here), and the
// runner driving a fake kubectl through start, liveness and stop.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/config.hpp"
#include "schedule/kubernetes_objects.hpp"
#include "schedule/kubernetes_runner.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace onair;
using namespace onair::schedule;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr std::string_view kAbChannel = R"(# two contribution paths
channel: fight
inputs:
  a: srt://0.0.0.0:9001?mode=listener&latency=200
  b: udp://0.0.0.0:9002
ladder:
  - {name: 720p, width: 1280, height: 720, bitrate: 3000k}
  - {name: 360p, width: 640, height: 360, bitrate: 800k}
origin: {listen: 127.0.0.1:18080, ingest_token_file: /etc/secret/ingest}
data: ./data/fight
)";

constexpr std::string_view kSingleChannel = R"(channel: solo
inputs: {a: "rtp://0.0.0.0:5004"}
ladder:
  - {name: only, width: 640, height: 360, bitrate: 800k}
origin: {listen: 127.0.0.1:18081}
)";

core::ChannelConfig channel_of(std::string_view text, const std::string& file = "fight.yaml") {
    auto parsed = core::parse_channel_config(text, file);
    REQUIRE(parsed.has_value());
    return *parsed;
}

EventSpec event_of(std::string id) {
    EventSpec event;
    event.id = std::move(id);
    event.channel = "fight.yaml";
    event.channel_path = "fight.yaml";
    return event;
}

const KubernetesTokens kTokens{.ingest = "ingest-secret", .api = "api-secret"};

std::vector<json::object> render(const EventSpec& event, const core::ChannelConfig& channel,
                                 std::string_view text, const KubernetesOptions& options = {}) {
    auto objects = render_kubernetes_objects({.event = event,
                                              .channel = channel,
                                              .channel_text = text,
                                              .tokens = kTokens,
                                              .generation = "1764000000000"},
                                             options);
    REQUIRE(objects.has_value());
    return *objects;
}

const json::object& find(const std::vector<json::object>& objects, std::string_view kind,
                         std::string_view name) {
    for (const auto& object : objects)
        if (object.at("kind").as_string() == kind &&
            object.at("metadata").at("name").as_string() == name)
            return object;
    FAIL("no " << kind << " " << name);
    throw std::logic_error("unreachable");
}

// The value at a path of keys and indexes: at(obj, "spec", "replicas").
template <class... Keys>
const json::value& at(const json::value& value, Keys... keys) {
    const json::value* here = &value;
    [[maybe_unused]] auto step = [&](auto key) {
        if constexpr (std::is_integral_v<decltype(key)>)
            here = &here->as_array().at(static_cast<size_t>(key));
        else
            here = &here->as_object().at(key);
    };
    (step(keys), ...);
    return *here;
}

// The same from an object (no copy into a temporary value).
template <class First, class... Keys>
const json::value& at(const json::object& object, First first, Keys... keys) {
    return at(object.at(first), keys...);
}

const json::value& pod_spec(const json::object& deployment) {
    return at(deployment, "spec", "template", "spec");
}

// A string value as text; "" when it is not a string.
std::string str(const json::value& value) {
    return value.is_string() ? std::string(value.get_string()) : std::string();
}

std::vector<std::string> strings(const json::value& array) {
    std::vector<std::string> out;
    for (const auto& item : array.as_array()) out.emplace_back(item.as_string());
    return out;
}

bool is_dns_label(const std::string& name) {
    static const std::regex label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    return name.size() <= 63 && std::regex_match(name, label);
}

// Runs the offline validator on a file of objects.
testing::RunResult validate(const testing::TempDir& dir, const json::object& list) {
    const std::string node = ONAIR_NODE;
    INFO("node and the repository's node_modules (npm ci at the root; tools/dev build does it)");
    REQUIRE_FALSE(node.empty());
    REQUIRE(std::filesystem::exists(std::string(ONAIR_NODE_MODULES) + "/kubernetes-models"));
    const auto file = dir.write("objects.json", json::serialize(list));
    return testing::run_to_completion(
        {.argv = {node, ONAIR_KUBERNETES_VALIDATOR, file.string(), ONAIR_NODE_MODULES},
         .output_dir = dir.path(),
         .name = "validate"},
        60s);
}

}  // namespace

TEST_CASE("kubernetes names are DNS-1123 labels, distinct for distinct event ids") {
    CHECK(kubernetes_key("fight-night-main") == "fight-night-main");
    const auto upper = kubernetes_key("Fight_Night");
    CHECK(std::regex_match(upper, std::regex("fight-night-[0-9a-f]{8}")));
    CHECK(upper != kubernetes_key("fight-night"));
    CHECK(upper != kubernetes_key("fight_night"));
    CHECK(kubernetes_key("Fight_Night") == upper);  // stable

    for (std::string id : {std::string("fight-night-main"), std::string("Fight_Night"),
                           std::string("_x_"), std::string("---"), std::string(64, 'A'),
                           std::string(64, 'a'), std::string("a") + std::string(62, '_') + "b"}) {
        INFO(id);
        const auto names = kubernetes_names(id);
        for (const auto& name : {names.origin, names.encode_a, names.encode_b, names.data,
                                 names.channel, names.tokens}) {
            INFO(name);
            CHECK(is_dns_label(name));
            CHECK(name.starts_with("onair-"));  // a letter first: Services need one
        }
        CHECK(is_dns_label(names.key));  // also the onair/event label's value
    }
    CHECK(kubernetes_key(std::string(64, 'a')) != kubernetes_key(std::string(63, 'a')));
    CHECK(kubernetes_names("fight-night-main").encode_b == "onair-fight-night-main-encode-b");
}

TEST_CASE("an A/B event renders the origin, its Service and volume, and two encoders") {
    const auto channel = channel_of(kAbChannel);
    KubernetesOptions options;
    options.namespace_ = "live";
    options.image = "registry.example/onair:1.4";
    options.storage_class = "fast-ssd";
    options.storage_size = "50Gi";
    const auto objects = render(event_of("fight-night-main"), channel, kAbChannel, options);

    std::vector<std::string> order;
    for (const auto& o : objects)
        order.push_back(fmt::format("{} {}", std::string_view(o.at("kind").as_string()),
                                    std::string_view(o.at("metadata").at("name").as_string())));
    CHECK(order == std::vector<std::string>{
                       "ConfigMap onair-fight-night-main-channel",
                       "Secret onair-fight-night-main-tokens",
                       "PersistentVolumeClaim onair-fight-night-main-data",
                       "Deployment onair-fight-night-main-origin",
                       "Service onair-fight-night-main-origin",
                       "Deployment onair-fight-night-main-encode-a",
                       "Deployment onair-fight-night-main-encode-b",
                   });

    SECTION("every object: the namespace and the labels") {
        for (const auto& o : objects) {
            INFO(json::serialize(o.at("metadata")));
            CHECK(at(o, "metadata", "namespace") == "live");
            CHECK(at(o, "metadata", "labels", "app.kubernetes.io/name") == "onair");
            CHECK(at(o, "metadata", "labels", "onair/event") == "fight-night-main");
            CHECK(at(o, "metadata", "labels", "onair/generation") == "1764000000000");
            CHECK(at(o, "metadata", "annotations", "onair/event-id") == "fight-night-main");
            CHECK(at(o, "metadata", "labels").as_object().contains("onair/role"));
        }
    }

    SECTION("the origin: one pod, Recreate, `onair origin`, its port, probes, both volumes") {
        const auto& origin = find(objects, "Deployment", "onair-fight-night-main-origin");
        CHECK(at(origin, "spec", "replicas") == 1);
        CHECK(at(origin, "spec", "strategy", "type") == "Recreate");
        CHECK(at(origin, "metadata", "labels", "onair/role") == "origin");
        const auto& pod = pod_spec(origin);
        REQUIRE(at(pod, "containers").as_array().size() == 1);
        const auto& c = at(pod, "containers", 0);
        CHECK(at(c, "image") == "registry.example/onair:1.4");
        CHECK(strings(at(c, "command")) == std::vector<std::string>{"onair"});
        CHECK(strings(at(c, "args")) ==
              std::vector<std::string>{"origin", "/etc/onair/channel.yaml"});
        CHECK(at(c, "ports").as_array().size() == 1);
        CHECK(at(c, "ports", 0, "containerPort") == 18080);
        CHECK(at(c, "ports", 0, "protocol") == "TCP");
        CHECK(at(c, "ports", 0, "name") == "http");
        for (const char* probe : {"readinessProbe", "livenessProbe"}) {
            INFO(probe);
            CHECK(at(c, probe, "httpGet", "path") == "/healthz");
            CHECK(at(c, probe, "httpGet", "port") == "http");
        }
        CHECK(at(c, "volumeMounts", 0, "name") == "channel");
        CHECK(at(c, "volumeMounts", 0, "mountPath") == "/etc/onair");
        CHECK(at(c, "volumeMounts", 0, "readOnly") == true);
        CHECK(at(c, "volumeMounts", 1, "name") == "data");
        CHECK(str(at(c, "volumeMounts", 1, "mountPath")) == std::string(kDataMountPath));
        CHECK(at(pod, "volumes", 0, "configMap", "name") == "onair-fight-night-main-channel");
        CHECK(at(pod, "volumes", 1, "persistentVolumeClaim", "claimName") ==
              "onair-fight-night-main-data");
        // Both tokens from the Secret, through the environment.
        CHECK(at(c, "env", 0, "name") == "ONAIR_INGEST_TOKEN");
        CHECK(at(c, "env", 0, "valueFrom", "secretKeyRef", "name") ==
              "onair-fight-night-main-tokens");
        CHECK(at(c, "env", 1, "name") == "ONAIR_API_TOKEN");
        CHECK(at(c, "env", 1, "valueFrom", "secretKeyRef", "key") == "ONAIR_API_TOKEN");
        // The selector picks the origin's pods only, not the encoders'.
        CHECK(at(origin, "spec", "selector", "matchLabels", "onair/role") == "origin");
        CHECK(at(origin, "spec", "template", "metadata", "labels", "onair/role") == "origin");
        CHECK(at(origin, "spec", "template", "metadata", "annotations", "onair/generation") ==
              "1764000000000");
    }

    SECTION("the Service: ClusterIP on the origin's port, to the origin's pods") {
        const auto& service = find(objects, "Service", "onair-fight-night-main-origin");
        CHECK(at(service, "spec", "type") == "ClusterIP");
        CHECK(at(service, "spec", "ports", 0, "port") == 18080);
        CHECK(at(service, "spec", "ports", 0, "protocol") == "TCP");
        CHECK(at(service, "spec", "selector", "onair/role") == "origin");
        CHECK(at(service, "spec", "selector", "onair/event") == "fight-night-main");
    }

    SECTION("the volume, the channel file and the tokens") {
        const auto& claim = find(objects, "PersistentVolumeClaim", "onair-fight-night-main-data");
        CHECK(strings(at(claim, "spec", "accessModes")) ==
              std::vector<std::string>{"ReadWriteOnce"});
        CHECK(at(claim, "spec", "resources", "requests", "storage") == "50Gi");
        CHECK(at(claim, "spec", "storageClassName") == "fast-ssd");

        const auto& secret = find(objects, "Secret", "onair-fight-night-main-tokens");
        CHECK(at(secret, "stringData", "ONAIR_INGEST_TOKEN") == "ingest-secret");
        CHECK(at(secret, "stringData", "ONAIR_API_TOKEN") == "api-secret");

        // The pods' channel file reads back as the same channel, listening
        // on every address of the pod and keeping its data on the volume.
        const auto& config = find(objects, "ConfigMap", "onair-fight-night-main-channel");
        const std::string yaml(at(config, "data", "channel.yaml").as_string());
        auto in_pod = core::parse_channel_config(yaml, "channel.yaml");
        INFO(yaml);
        REQUIRE(in_pod.has_value());
        CHECK(in_pod->channel == "fight");
        CHECK(in_pod->origin.host == "0.0.0.0");
        CHECK(in_pod->origin.port == 18080);
        CHECK(in_pod->data_dir == std::string(kDataMountPath));
        CHECK(in_pod->origin.ingest_token_file.empty());
        REQUIRE(in_pod->inputs.size() == 2);
        CHECK(in_pod->inputs[0].input.url == channel.inputs[0].input.url);
        CHECK(in_pod->inputs[1].input.url == channel.inputs[1].input.url);
        REQUIRE(in_pod->ladder.size() == 2);
        CHECK(in_pod->ladder[1].name == "360p");
        CHECK(in_pod->ladder[1].bitrate == 800000);
    }

    SECTION("the encoders: `onair encode` to the Service, UDP input ports, never on one node") {
        const std::string origin_url =
            "http://onair-fight-night-main-origin.live.svc.cluster.local:18080";
        for (char pipeline : {'a', 'b'}) {
            const std::string p(1, pipeline);
            INFO("pipeline " << p);
            const auto& encoder = find(objects, "Deployment", "onair-fight-night-main-encode-" + p);
            CHECK(at(encoder, "spec", "replicas") == 1);
            CHECK(at(encoder, "spec", "strategy", "type") == "Recreate");
            CHECK(at(encoder, "metadata", "labels", "onair/role") == "encoder");
            CHECK(str(at(encoder, "spec", "selector", "matchLabels", "onair/pipeline")) == p);
            const auto& pod = pod_spec(encoder);
            const auto& c = at(pod, "containers", 0);
            CHECK(at(c, "image") == "registry.example/onair:1.4");
            CHECK(strings(at(c, "command")) == std::vector<std::string>{"onair"});
            CHECK(strings(at(c, "args")) ==
                  std::vector<std::string>{"encode", "/etc/onair/channel.yaml", "--pipeline", p,
                                           "--origin", origin_url});
            CHECK(at(c, "env", 0, "name") == "ONAIR_INGEST_TOKEN");
            CHECK(at(c, "env").as_array().size() == 1);  // no API token for encoders
            CHECK(at(c, "volumeMounts", 0, "mountPath") == "/etc/onair");
            CHECK(at(c, "volumeMounts").as_array().size() == 1);  // not the origin's volume
            REQUIRE(at(c, "ports").as_array().size() == 1);
            CHECK(at(c, "ports", 0, "containerPort") == (pipeline == 'a' ? 9001 : 9002));
            CHECK(at(c, "ports", 0, "protocol") == "UDP");  // SRT runs over UDP
            CHECK(at(c, "ports", 0, "name") == (pipeline == 'a' ? "srt-a" : "udp-b"));

            const auto& rules = at(pod, "affinity", "podAntiAffinity",
                                   "requiredDuringSchedulingIgnoredDuringExecution");
            REQUIRE(rules.as_array().size() == 1);
            CHECK(at(rules, 0, "topologyKey") == "kubernetes.io/hostname");
            const auto& match = at(rules, 0, "labelSelector", "matchLabels").as_object();
            CHECK(match.size() == 2);
            CHECK(match.at("onair/event") == "fight-night-main");
            CHECK(match.at("onair/role") == "encoder");
            // ... which both encoders' pods carry.
            CHECK(at(encoder, "spec", "template", "metadata", "labels", "onair/role") == "encoder");
            CHECK(at(encoder, "spec", "template", "metadata", "labels", "onair/event") ==
                  "fight-night-main");
        }
    }

    SECTION("every object is valid against the Kubernetes API schema") {
        testing::TempDir dir("onair-k8s");
        auto result = validate(dir, kubernetes_list(objects));
        INFO(result.out << result.err);
        REQUIRE(result.status);
        CHECK(result.status->success());
        for (const auto& line : order) {
            const auto space = line.find(' ');
            CHECK(result.out.find(fmt::format("ok {}/{}", line.substr(0, space),
                                              line.substr(space + 1))) != std::string::npos);
        }
    }

    SECTION("the validator rejects a broken object and names it") {
        auto broken = objects;
        for (auto& o : broken)
            if (o.at("metadata").at("name") == "onair-fight-night-main-origin" &&
                o.at("kind") == "Deployment")
                o.at("spec")
                    .at("template")
                    .at("spec")
                    .at("containers")
                    .at(0)
                    .at("ports")
                    .at(0)
                    .as_object()["containerPort"] = "18080";
        testing::TempDir dir("onair-k8s");
        auto result = validate(dir, kubernetes_list(broken));
        INFO(result.out << result.err);
        REQUIRE(result.status);
        CHECK(result.status->code == 1);
        CHECK(result.err.find("invalid Deployment/onair-fight-night-main-origin") !=
              std::string::npos);
        CHECK(result.err.find("containerPort must be integer") != std::string::npos);
        CHECK(result.out.find("ok Service/onair-fight-night-main-origin") != std::string::npos);
    }
}

TEST_CASE("a single-input event has no encode-b, rtp opens RTP and RTCP, no storage class") {
    const auto channel = channel_of(kSingleChannel, "solo.yaml");
    const KubernetesTokens tokens{.ingest = "t", .api = ""};
    auto objects = render_kubernetes_objects({.event = event_of("Solo_Show"),
                                              .channel = channel,
                                              .channel_text = kSingleChannel,
                                              .tokens = tokens,
                                              .generation = "7"},
                                             {});
    REQUIRE(objects.has_value());
    const auto names = kubernetes_names("Solo_Show");
    CHECK(objects->size() == 6);
    for (const auto& o : *objects) CHECK(str(o.at("metadata").at("name")) != names.encode_b);
    CHECK(at(find(*objects, "Deployment", names.encode_a), "metadata", "namespace") == "onair");
    const auto& c = at(pod_spec(find(*objects, "Deployment", names.encode_a)), "containers", 0);
    CHECK(at(c, "image") == "onair:latest");
    REQUIRE(at(c, "ports").as_array().size() == 2);
    CHECK(at(c, "ports", 0, "containerPort") == 5004);
    CHECK(at(c, "ports", 1, "containerPort") == 5005);
    CHECK(at(c, "ports", 1, "protocol") == "UDP");
    const auto& claim = find(*objects, "PersistentVolumeClaim", names.data);
    CHECK_FALSE(at(claim, "spec").as_object().contains("storageClassName"));  // the default
    CHECK(at(claim, "spec", "resources", "requests", "storage") == "20Gi");
    // No API token: none in the Secret, none in the origin's environment.
    CHECK_FALSE(at(find(*objects, "Secret", names.tokens), "stringData")
                    .as_object()
                    .contains("ONAIR_API_TOKEN"));
    const auto& origin = at(pod_spec(find(*objects, "Deployment", names.origin)), "containers", 0);
    CHECK(at(origin, "env").as_array().size() == 1);

    SECTION("an API token Secret of the cluster's own") {
        KubernetesOptions options;
        options.api_token_secret = "ops-api-token";
        auto again = render_kubernetes_objects({.event = event_of("Solo_Show"),
                                                .channel = channel,
                                                .channel_text = kSingleChannel,
                                                .tokens = tokens,
                                                .generation = "7"},
                                               options);
        REQUIRE(again.has_value());
        const auto& env =
            at(pod_spec(find(*again, "Deployment", names.origin)), "containers", 0, "env");
        CHECK(at(env, 1, "name") == "ONAIR_API_TOKEN");
        CHECK(at(env, 1, "valueFrom", "secretKeyRef", "name") == "ops-api-token");
    }

    SECTION("without an ingest token nothing renders") {
        const KubernetesTokens none{};
        auto refused = render_kubernetes_objects({.event = event_of("Solo_Show"),
                                                  .channel = channel,
                                                  .channel_text = kSingleChannel,
                                                  .tokens = none,
                                                  .generation = "7"},
                                                 {});
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().message.find("ingest token") != std::string::npos);
    }
}

namespace {

// A kubectl that records each call (one line: its arguments), keeps the
// file `apply -f` was given, answers `get` from deployment.json (NotFound
// without it) and fails every call while fail.txt exists, printing it.
constexpr std::string_view kFakeKubectl = R"(#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls.log"
if [ -f "$dir/fail.txt" ]; then cat "$dir/fail.txt" >&2; exit 1; fi
case "$1" in
  apply)
    while [ $# -gt 0 ]; do
      if [ "$1" = "-f" ]; then cp "$2" "$dir/applied.json"; fi
      shift
    done
    echo "configmap/x serverside-applied" ;;
  get)
    if [ -f "$dir/deployment.json" ]; then cat "$dir/deployment.json"
    else echo 'Error from server (NotFound): deployments.apps "x" not found' >&2; exit 1; fi ;;
  delete) echo "deployment.apps \"x\" deleted" ;;
esac
)";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("the kubernetes runner applies, watches and deletes through kubectl") {
    ::unsetenv("ONAIR_INGEST_TOKEN");
    ::unsetenv("ONAIR_API_TOKEN");
    testing::TempDir dir("onair-k8s-runner");
    const auto kubectl = dir.write("kubectl", kFakeKubectl);
    std::filesystem::permissions(kubectl, std::filesystem::perms::owner_all);
    // The channel names no token file: the runner makes an ingest token.
    const std::string text =
        std::string(kAbChannel)
            .replace(std::string(kAbChannel).find(", ingest_token_file: /etc/secret/ingest"),
                     std::string_view(", ingest_token_file: /etc/secret/ingest").size(), "");
    const auto channel_file = dir.write("fight.yaml", text);
    const auto channel = channel_of(text, channel_file.string());
    const auto event = event_of("Fight_Night");
    const std::string controller_data = (dir / "controller").string();
    const std::string channel_path = channel_file.string();
    const DeployRequest request{.event = event,
                                .channel_path = channel_path,
                                .channel = channel,
                                .controller_data = controller_data};

    KubernetesOptions options;
    options.kubectl = kubectl.string();
    options.namespace_ = "live";
    KubernetesRunner runner(options);
    CHECK(runner.name() == "kubernetes");
    const auto names = kubernetes_names("Fight_Night");

    auto deployment = runner.start(request);
    REQUIRE(deployment.has_value());
    CHECK(deployment->runner == "kubernetes");
    CHECK(deployment->id == "live/onair-" + names.key);
    CHECK(deployment->origin ==
          fmt::format("http://{}.live.svc.cluster.local:18080", names.origin));
    CHECK(deployment->channel == "fight");
    CHECK(deployment->data_dir == std::string(kDataMountPath));
    CHECK(deployment->instance == std::to_string(deployment->started_ms));

    // What was applied is the file under the controller's folder, private to it.
    const auto file = kubernetes_objects_path(controller_data, "Fight_Night");
    CHECK(file == controller_data + "/kubernetes/Fight_Night.json");
    CHECK(testing::read_file(file) == testing::read_file(dir / "applied.json"));
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    const auto applied = json::parse(testing::read_file(file));
    CHECK(at(applied, "kind") == "List");
    CHECK(at(applied, "items").as_array().size() == 7);
    auto calls = lines_of(testing::read_file(dir / "calls.log"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].starts_with("apply "));
    CHECK(calls[0].ends_with(" -f " + file));
    CHECK(str(at(applied, "items", 0, "metadata", "labels", "onair/generation")) ==
          deployment->instance);

    // The generated ingest token is the event's: the same at the next start.
    const std::string token(
        at(applied, "items", 1, "stringData", "ONAIR_INGEST_TOKEN").as_string());
    CHECK(token.size() == 64);
    auto second = runner.start(request);
    REQUIRE(second.has_value());
    CHECK(str(at(json::parse(testing::read_file(file)), "items", 1, "stringData",
                 "ONAIR_INGEST_TOKEN")) == token);

    SECTION("liveness: NotFound is gone, present is running, being deleted is not") {
        auto gone = runner.liveness(*deployment);
        CHECK_FALSE(gone.running);
        CHECK(gone.reason == fmt::format("deployment live/{} not found", names.origin));
        auto get = lines_of(testing::read_file(dir / "calls.log")).back();
        CHECK(get == fmt::format("get deployment {} -n live -o json", names.origin));

        dir.write("deployment.json", fmt::format(R"({{"apiVersion":"apps/v1","kind":"Deployment",
                      "metadata":{{"name":"{}","namespace":"live"}},
                      "status":{{"replicas":1,"readyReplicas":1}}}})",
                                                 names.origin));
        auto running = runner.liveness(*deployment);
        CHECK(running.running);
        CHECK(running.reason.empty());

        dir.write("deployment.json", fmt::format(R"({{"metadata":{{"name":"{}",
                      "deletionTimestamp":"2026-12-05T21:00:00Z"}}}})",
                                                 names.origin));
        auto deleting = runner.liveness(*deployment);
        CHECK_FALSE(deleting.running);
        CHECK(deleting.reason.find("being deleted") != std::string::npos);

        // kubectl that cannot reach the cluster cannot tell: not reported gone.
        dir.write("fail.txt", "Unable to connect to the server: dial tcp: i/o timeout\n");
        auto unknown = runner.liveness(*deployment);
        CHECK(unknown.running);
        CHECK(unknown.reason.find("Unable to connect to the server") != std::string::npos);
    }

    SECTION("stop deletes everything of the event but its volume") {
        REQUIRE(runner.stop(*deployment, 5s).has_value());
        auto last = lines_of(testing::read_file(dir / "calls.log")).back();
        CHECK(last == fmt::format("delete deployment,service,configmap,secret -n live -l "
                                  "app.kubernetes.io/name=onair,onair/event={} "
                                  "--ignore-not-found --cascade=foreground --wait=true "
                                  "--timeout=5s",
                                  names.key));
        for (const auto& call : lines_of(testing::read_file(dir / "calls.log"))) {
            CHECK(call.find("persistentvolumeclaim") == std::string::npos);
            CHECK(call.find("pvc") == std::string::npos);
        }
    }

    SECTION("a failing kubectl says why") {
        dir.write("fail.txt", "error: You must be logged in to the server (Unauthorized)\n");
        auto refused = runner.start(request);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().message.find("Unauthorized") != std::string::npos);
        auto stopped = runner.stop(*deployment, 1s);
        REQUIRE_FALSE(stopped.has_value());
        CHECK(stopped.error().message.find("Unauthorized") != std::string::npos);
        // The force comes after the grace: pods deleted without waiting for them.
        bool forced = false;
        for (const auto& call : lines_of(testing::read_file(dir / "calls.log")))
            forced |= call.starts_with("delete pod ") && call.find("--force") != std::string::npos;
        CHECK(forced);
    }

    SECTION("a deployment id that is not NAMESPACE/onair-KEY is refused") {
        Deployment other = *deployment;
        other.id = "12345";
        CHECK_FALSE(runner.stop(other, 1s).has_value());
        CHECK_FALSE(runner.liveness(other).running);
    }
}
