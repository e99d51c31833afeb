// The kubernetes runner: render, write, kubectl apply; kubectl get; kubectl delete.
#include "schedule/kubernetes_runner.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/text_file.hpp"
#include "core/token.hpp"
#include "schedule/program.hpp"

namespace onair::schedule {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMaxChannelBytes = 1 << 20;  // as core/config.cpp reads it
constexpr std::chrono::milliseconds kKubectlLimit = 60s;
constexpr std::string_view kFieldManager = "onair-controller";

// Writes `text` to `path` readable by the owner only, whole or not at all.
core::Result<> write_private(const fs::path& path, std::string_view text) {
    const fs::path temporary = path.string() + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return core::fail(
            fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno)), errno);
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            return core::fail(
                fmt::format("cannot write {}: {}", temporary.string(), std::strerror(error)),
                error);
        }
        done += static_cast<size_t>(n);
    }
    ::fchmod(fd, 0600);  // an older file of the same name kept its mode through O_TRUNC
    ::close(fd);
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) return core::fail(fmt::format("cannot write {}: {}", path.string(), ec.message()));
    return {};
}

// 32 random bytes as hex.
core::Result<std::string> random_token() {
    std::ifstream random("/dev/urandom", std::ios::binary);
    unsigned char bytes[32];
    if (!random.read(reinterpret_cast<char*>(bytes), sizeof bytes))
        return core::fail("cannot read /dev/urandom for an ingest token");
    std::string token;
    for (unsigned char b : bytes) token += fmt::format("{:02x}", b);
    return token;
}

// The channel's ingest token as `onair run` would find it (ONAIR_INGEST_TOKEN,
// else origin.ingest_token_file); without one, a token made for this event
// the first time and kept in the controller's folder, so that every start()
// of the event (and a restarted controller) gives the pods the same one.
core::Result<std::string> ingest_token(const DeployRequest& request, const fs::path& folder) {
    std::string why;
    if (auto token =
            core::read_token("ONAIR_INGEST_TOKEN", request.channel.origin.ingest_token_file, why))
        return *token;
    if (!request.channel.origin.ingest_token_file.empty())
        return core::fail(fmt::format("no ingest token: {}", why));
    const fs::path kept = folder / (request.event.id + ".ingest-token");
    if (auto text = core::read_text_file(kept.string(), 4096); text && !text->empty()) {
        std::string token = *text;
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
        if (!token.empty()) return token;
    }
    auto token = random_token();
    if (!token) return token;
    if (auto ok = write_private(kept, *token + "\n"); !ok) return std::unexpected(ok.error());
    return token;
}

// ONAIR_API_TOKEN, else origin.api_token_file; empty when neither names one.
core::Result<std::string> api_token(const DeployRequest& request) {
    std::string why;
    if (auto token =
            core::read_token("ONAIR_API_TOKEN", request.channel.origin.api_token_file, why))
        return *token;
    if (!request.channel.origin.api_token_file.empty())
        return core::fail(fmt::format("no API token: {}", why));
    return std::string();
}

struct Target {
    std::string namespace_;
    KubernetesNames names;
};

// "NAMESPACE/onair-KEY" back to the names start() used.
core::Result<Target> target_of(const Deployment& deployment) {
    const auto slash = deployment.id.find('/');
    constexpr std::string_view prefix = "onair-";
    if (slash == std::string::npos || slash == 0 ||
        deployment.id.compare(slash + 1, prefix.size(), prefix) != 0 ||
        deployment.id.size() == slash + 1 + prefix.size())
        return core::fail(
            fmt::format("not a kubernetes deployment id: \"{}\" "
                        "(expected NAMESPACE/onair-KEY)",
                        deployment.id));
    return Target{deployment.id.substr(0, slash),
                  kubernetes_names_of_key(deployment.id.substr(slash + 1 + prefix.size()))};
}

std::string selector_of(const KubernetesNames& names) {
    return fmt::format("app.kubernetes.io/name=onair,onair/event={}", names.key);
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string kubernetes_objects_path(const std::string& controller_data, std::string_view event_id) {
    return (fs::path(controller_data) / "kubernetes" / (std::string(event_id) + ".json")).string();
}

KubernetesRunner::KubernetesRunner(KubernetesOptions options) : options_(std::move(options)) {}

core::Result<Deployment> KubernetesRunner::start(const DeployRequest& request) {
    auto text = core::read_text_file(request.channel_path, kMaxChannelBytes);
    if (!text) return core::fail(fmt::format("{}: {}", request.channel_path, text.error()));

    const fs::path file = kubernetes_objects_path(request.controller_data, request.event.id);
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec)
        return core::fail(
            fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));

    KubernetesTokens tokens;
    auto ingest = ingest_token(request, file.parent_path());
    if (!ingest) return std::unexpected(ingest.error());
    tokens.ingest = std::move(*ingest);
    auto api = api_token(request);
    if (!api) return std::unexpected(api.error());
    tokens.api = std::move(*api);

    const int64_t started = now_ms();
    const std::string generation = std::to_string(started);
    auto objects = render_kubernetes_objects({.event = request.event,
                                              .channel = request.channel,
                                              .channel_text = *text,
                                              .tokens = tokens,
                                              .generation = generation},
                                             options_);
    if (!objects) return std::unexpected(objects.error());
    if (auto ok = write_private(file, json::serialize(kubernetes_list(std::move(*objects))) + "\n");
        !ok)
        return std::unexpected(ok.error());

    // Server-side apply: no last-applied annotation, which would hold the
    // Secret's tokens in the clear on the object.
    auto applied =
        run_program({options_.kubectl, "apply", "--server-side", "--force-conflicts",
                     fmt::format("--field-manager={}", kFieldManager), "-f", file.string()},
                    kKubectlLimit);
    if (!applied.success())
        return core::fail(
            fmt::format("kubectl apply -f {}: {}", file.string(), applied.describe()));

    const KubernetesNames names = kubernetes_names(request.event.id);
    return Deployment{.runner = "kubernetes",
                      .id = fmt::format("{}/onair-{}", options_.namespace_, names.key),
                      .instance = generation,
                      .origin = kubernetes_origin_url(names, options_, request.channel.origin.port),
                      .channel = request.channel.channel,
                      .data_dir = std::string(kDataMountPath),
                      .started_ms = started};
}

Liveness KubernetesRunner::liveness(const Deployment& deployment) {
    auto target = target_of(deployment);
    if (!target) return {.running = false, .reason = target.error().message};
    const std::string& name = target->names.origin;
    auto got = run_program(
        {options_.kubectl, "get", "deployment", name, "-n", target->namespace_, "-o", "json"},
        kKubectlLimit);
    if (!got.success()) {
        if (got.started && !got.timed_out && got.err.find("NotFound") != std::string::npos)
            return {.running = false,
                    .reason = fmt::format("deployment {}/{} not found", target->namespace_, name)};
        return {.running = true,
                .reason = fmt::format("cannot tell: kubectl get: {}", got.describe())};
    }
    boost::system::error_code ec;
    const json::value answer = json::parse(got.out, ec);
    const json::object* object = ec ? nullptr : answer.if_object();
    const json::object* meta = nullptr;
    if (object)
        if (auto* m = object->if_contains("metadata")) meta = m->if_object();
    if (!meta)
        return {.running = true,
                .reason = fmt::format("cannot tell: kubectl get answered no Deployment: {}",
                                      got.out.substr(0, 200))};
    if (meta->contains("deletionTimestamp"))
        return {
            .running = false,
            .reason = fmt::format("deployment {}/{} is being deleted", target->namespace_, name)};
    return {.running = true, .reason = {}};
}

core::Result<> KubernetesRunner::stop(const Deployment& deployment,
                                      std::chrono::milliseconds grace) {
    auto target = target_of(deployment);
    if (!target) return std::unexpected(target.error());
    const std::string selector = selector_of(target->names);
    const auto seconds =
        std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(grace).count());
    // Everything but the PersistentVolumeClaim: the DVR and the clips stay.
    auto delete_all = [&](int64_t timeout_s) {
        return run_program(
            {options_.kubectl, "delete", "deployment,service,configmap,secret", "-n",
             target->namespace_, "-l", selector, "--ignore-not-found", "--cascade=foreground",
             "--wait=true", fmt::format("--timeout={}s", timeout_s)},
            std::chrono::seconds(timeout_s) + kKubectlLimit);
    };
    auto deleted = delete_all(seconds);
    if (deleted.success()) return {};
    // Pods that outlived the grace: forced, then the objects once more.
    auto forced = run_program(
        {options_.kubectl, "delete", "pod", "-n", target->namespace_, "-l", selector,
         "--ignore-not-found", "--grace-period=0", "--force", "--wait=true", "--timeout=30s"},
        30s + kKubectlLimit);
    auto again = delete_all(30);
    if (again.success()) return {};
    return core::fail(fmt::format("kubectl delete of {} (-l {}): {}; forced: {}; again: {}",
                                  deployment.id, selector, deleted.describe(), forced.describe(),
                                  again.describe()));
}

}  // namespace onair::schedule
