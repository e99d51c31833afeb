// One event's channel as Kubernetes objects: names, the pod's channel file,
// and the objects themselves as JSON.
#include "schedule/kubernetes_objects.hpp"

#include <cctype>
#include <cstdint>
#include <exception>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

namespace onair::schedule {

namespace json = boost::json;

namespace {

// DNS-1123 labels hold at most 63 characters; the longest name is
// "onair-" + KEY + "-encode-a".
constexpr size_t kMaxLabel = 63;
constexpr size_t kMaxKey =
    kMaxLabel - std::string_view("onair-").size() - std::string_view("-encode-a").size();

uint32_t fnv1a(std::string_view text) {
    uint32_t hash = 2166136261u;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 16777619u;
    }
    return hash;
}

json::object labels(const KubernetesNames& names, std::string_view role,
                    std::string_view generation) {
    json::object out{{"app.kubernetes.io/name", "onair"},
                     {"app.kubernetes.io/managed-by", "onair-controller"},
                     {"onair/event", names.key},
                     {"onair/role", role}};
    if (!generation.empty()) out["onair/generation"] = generation;
    return out;
}

json::object metadata(const std::string& name, const KubernetesOptions& options,
                      const KubernetesRender& render, const KubernetesNames& names,
                      std::string_view role) {
    return {{"name", name},
            {"namespace", options.namespace_},
            {"labels", labels(names, role, render.generation)},
            {"annotations", {{"onair/event-id", render.event.id}}}};
}

json::object secret_env(std::string_view variable, std::string_view secret) {
    return {{"name", variable},
            {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", variable}}}}}};
}

json::object probe(int initial_delay, int period) {
    return {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}},
            {"initialDelaySeconds", initial_delay},
            {"periodSeconds", period},
            {"timeoutSeconds", 2},
            {"failureThreshold", 3}};
}

json::object channel_volume(const KubernetesNames& names) {
    return {{"name", "channel"}, {"configMap", {{"name", names.channel}}}};
}

json::object channel_mount() {
    return {{"name", "channel"}, {"mountPath", kChannelMountPath}, {"readOnly", true}};
}

// A Deployment of one pod with one container named `container`.
json::object deployment(json::object meta, json::object selector, json::object pod_labels,
                        std::string_view generation, json::object pod_spec) {
    json::object pod_meta{{"labels", std::move(pod_labels)}};
    // A new generation (a restart, a re-deploy after the channel file
    // changed) rolls the pods even when nothing else in them changed.
    if (!generation.empty()) pod_meta["annotations"] = {{"onair/generation", generation}};
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", std::move(meta)},
            {"spec",
             {{"replicas", 1},
              // Origin: its ReadWriteOnce volume cannot be in two pods at once.
              // Encoders: the anti-affinity keeps a second pod of the same
              // pipeline off the node of the first, so a rolling update could
              // wait forever on a two-node cluster.
              {"strategy", {{"type", "Recreate"}}},
              {"selector", {{"matchLabels", std::move(selector)}}},
              {"template", {{"metadata", std::move(pod_meta)}, {"spec", std::move(pod_spec)}}}}}};
}

json::array input_ports(const core::InputSpec& input, char id) {
    json::array ports;
    if (!input.listens()) return ports;  // testsrc and SRT callers open no port
    auto port = [&](std::string name, int number) {
        return json::object{
            {"name", std::move(name)}, {"containerPort", number}, {"protocol", "UDP"}};
    };
    switch (input.kind) {
        case core::InputKind::srt:
            ports.push_back(port(fmt::format("srt-{}", id), input.port));
            break;
        case core::InputKind::udp:
            ports.push_back(port(fmt::format("udp-{}", id), input.port));
            break;
        case core::InputKind::rtp:
            ports.push_back(port(fmt::format("rtp-{}", id), input.port));
            ports.push_back(port(fmt::format("rtcp-{}", id), input.port + 1));
            break;
        case core::InputKind::testsrc:
            break;
    }
    return ports;
}

}  // namespace

std::string kubernetes_key(std::string_view event_id) {
    std::string key;
    for (char c : event_id) {
        const auto u = static_cast<unsigned char>(c);
        key += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    }
    const bool changed = key != event_id;
    while (!key.empty() && key.front() == '-') key.erase(key.begin());
    while (!key.empty() && key.back() == '-') key.pop_back();
    if (!changed && !key.empty() && key.size() == event_id.size() && key.size() <= kMaxKey)
        return key;
    const std::string hash = fmt::format("{:08x}", fnv1a(event_id));
    key.resize(std::min(key.size(), kMaxKey - hash.size() - 1));
    while (!key.empty() && key.back() == '-') key.pop_back();
    return key.empty() ? hash : key + "-" + hash;
}

KubernetesOptions kubernetes_options(const RunnerConfig& runner) {
    KubernetesOptions options;
    options.namespace_ = runner.namespace_;
    options.image = runner.image;
    options.storage_class = runner.storage_class;
    options.storage_size = runner.storage_size;
    options.kubectl = runner.kubectl;
    options.api_token_secret = runner.api_token_secret;
    return options;
}

KubernetesNames kubernetes_names(std::string_view event_id) {
    return kubernetes_names_of_key(kubernetes_key(event_id));
}

KubernetesNames kubernetes_names_of_key(std::string key) {
    KubernetesNames names;
    names.key = std::move(key);
    const std::string base = "onair-" + names.key;
    names.origin = base + "-origin";
    names.encode_a = base + "-encode-a";
    names.encode_b = base + "-encode-b";
    names.data = base + "-data";
    names.channel = base + "-channel";
    names.tokens = base + "-tokens";
    return names;
}

std::string kubernetes_origin_url(const KubernetesNames& names, const KubernetesOptions& options,
                                  int port) {
    return fmt::format("http://{}.{}.svc.cluster.local:{}", names.origin, options.namespace_, port);
}

core::Result<std::string> kubernetes_channel_yaml(std::string_view channel_text,
                                                  const core::ChannelConfig& channel) {
    try {
        YAML::Node root = YAML::Load(std::string(channel_text));
        if (!root.IsMap()) return core::fail(fmt::format("{}: not a map", channel.file));
        YAML::Node origin = root["origin"];
        if (!origin || !origin.IsMap()) origin = YAML::Node(YAML::NodeType::Map);
        // The Service reaches the pod on its own address, not on loopback.
        origin["listen"] = fmt::format("0.0.0.0:{}", channel.origin.port);
        // Files on the controller's machine; the Secret's variables win anyway.
        origin.remove("ingest_token_file");
        origin.remove("api_token_file");
        root["origin"] = origin;
        root["data"] = std::string(kDataMountPath);
        YAML::Emitter out;
        out << root;
        if (!out.good())
            return core::fail(
                fmt::format("{}: cannot re-emit: {}", channel.file, out.GetLastError()));
        return fmt::format(
            "# {} as the kubernetes runner rewrote it: origin.listen on 0.0.0.0,\n"
            "# data on the PersistentVolumeClaim, tokens from the environment.\n{}\n",
            channel.file, out.c_str());
    } catch (const std::exception& error) {
        return core::fail(fmt::format("{}: {}", channel.file, error.what()));
    }
}

core::Result<std::vector<json::object>> render_kubernetes_objects(
    const KubernetesRender& render, const KubernetesOptions& options) {
    if (render.tokens.ingest.empty())
        return core::fail("no ingest token for the pipelines to push to the origin with");
    auto channel_yaml = kubernetes_channel_yaml(render.channel_text, render.channel);
    if (!channel_yaml) return std::unexpected(channel_yaml.error());

    const KubernetesNames names = kubernetes_names(render.event.id);
    const int port = render.channel.origin.port;
    auto meta = [&](const std::string& name, std::string_view role) {
        return metadata(name, options, render, names, role);
    };
    std::vector<json::object> objects;

    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", meta(names.channel, "channel")},
                       {"data", {{"channel.yaml", *channel_yaml}}}});

    json::object tokens{{"ONAIR_INGEST_TOKEN", render.tokens.ingest}};
    const bool api_in_tokens = options.api_token_secret.empty() && !render.tokens.api.empty();
    if (api_in_tokens) tokens["ONAIR_API_TOKEN"] = render.tokens.api;
    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", meta(names.tokens, "tokens")},
                       {"type", "Opaque"},
                       {"stringData", std::move(tokens)}});

    json::object claim_spec{{"accessModes", {"ReadWriteOnce"}},
                            {"resources", {{"requests", {{"storage", options.storage_size}}}}}};
    if (!options.storage_class.empty()) claim_spec["storageClassName"] = options.storage_class;
    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "PersistentVolumeClaim"},
                       {"metadata", meta(names.data, "data")},
                       {"spec", std::move(claim_spec)}});

    // The origin.
    json::array origin_env{secret_env("ONAIR_INGEST_TOKEN", names.tokens)};
    if (!options.api_token_secret.empty())
        origin_env.push_back(secret_env("ONAIR_API_TOKEN", options.api_token_secret));
    else if (api_in_tokens)
        origin_env.push_back(secret_env("ONAIR_API_TOKEN", names.tokens));
    json::object origin_container{
        {"name", "origin"},
        {"image", options.image},
        {"imagePullPolicy", options.image_pull_policy},
        {"command", {"onair"}},
        {"args", {"origin", kChannelFileInPod}},
        {"ports", {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}}},
        {"env", std::move(origin_env)},
        {"readinessProbe", probe(1, 2)},
        {"livenessProbe", probe(10, 10)},
        {"volumeMounts", {channel_mount(), {{"name", "data"}, {"mountPath", kDataMountPath}}}}};
    json::object origin_pod{
        {"terminationGracePeriodSeconds", options.termination_grace_seconds},
        {"containers", {std::move(origin_container)}},
        {"volumes",
         {channel_volume(names),
          {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", names.data}}}}}}};
    json::object origin_selector{{"onair/event", names.key}, {"onair/role", "origin"}};
    json::object origin_pod_labels = labels(names, "origin", {});
    objects.push_back(deployment(meta(names.origin, "origin"), origin_selector,
                                 std::move(origin_pod_labels), render.generation,
                                 std::move(origin_pod)));

    objects.push_back(
        {{"apiVersion", "v1"},
         {"kind", "Service"},
         {"metadata", meta(names.origin, "origin")},
         {"spec",
          {{"type", "ClusterIP"},
           {"selector", origin_selector},
           {"ports",
            {{{"name", "http"}, {"port", port}, {"targetPort", "http"}, {"protocol", "TCP"}}}}}}});

    // The pipelines.
    const std::string origin_url = kubernetes_origin_url(names, options, port);
    for (const core::PipelineInput& input : render.channel.inputs) {
        const std::string pipeline(1, input.id);
        const std::string& name = input.id == 'a' ? names.encode_a : names.encode_b;
        json::object container{
            {"name", "encode"},
            {"image", options.image},
            {"imagePullPolicy", options.image_pull_policy},
            {"command", {"onair"}},
            {"args", {"encode", kChannelFileInPod, "--pipeline", pipeline, "--origin", origin_url}},
            {"env", {secret_env("ONAIR_INGEST_TOKEN", names.tokens)}},
            {"volumeMounts", {channel_mount()}}};
        if (auto ports = input_ports(input.input, input.id); !ports.empty())
            container["ports"] = std::move(ports);
        json::object pod{
            {"terminationGracePeriodSeconds", options.termination_grace_seconds},
            // A and B never share a node: a node lost takes one pipeline, not both.
            {"affinity",
             {{"podAntiAffinity",
               {{"requiredDuringSchedulingIgnoredDuringExecution",
                 {{{"labelSelector",
                    {{"matchLabels", {{"onair/event", names.key}, {"onair/role", "encoder"}}}}},
                   {"topologyKey", "kubernetes.io/hostname"}}}}}}}},
            {"containers", {std::move(container)}},
            {"volumes", {channel_volume(names)}}};
        json::object pod_labels = labels(names, "encoder", {});
        pod_labels["onair/pipeline"] = pipeline;
        json::object selector{
            {"onair/event", names.key}, {"onair/role", "encoder"}, {"onair/pipeline", pipeline}};
        json::object deployment_meta = meta(name, "encoder");
        deployment_meta["labels"].as_object()["onair/pipeline"] = pipeline;
        objects.push_back(deployment(std::move(deployment_meta), std::move(selector),
                                     std::move(pod_labels), render.generation, std::move(pod)));
    }
    return objects;
}

json::object kubernetes_list(std::vector<json::object> items) {
    json::array array;
    for (auto& item : items) array.push_back(std::move(item));
    return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(array)}};
}

}  // namespace onair::schedule
