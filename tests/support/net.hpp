#pragma once
// Free ports on 127.0.0.1 for one test: the kernel picks one (bind to port
// 0), we read it and close the socket. Ports handed out once are never handed
// out again by this process, so two calls in one test never collide; another
// process may still take the port in between (rare with the kernel's
// ephemeral range walk). Thread-safe.
namespace onair::testing {

int free_tcp_port();
int free_udp_port();
// An even port P with P+1 free as well, both UDP (RTP and RTCP).
int free_udp_port_pair();

}  // namespace onair::testing
