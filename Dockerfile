# syntax=docker/dockerfile:1
# The AT7600 modem daemon in a small image (docs/deploy.md, "Container"):
#   docker build -t at7600 .
#   docker run --rm -p 7000:7000 at7600
# Each connection to port 7000 is a modem; the control API (ctl, /metrics) listens on
# the container's loopback unless given a token (see the CMD below).

# ---- Build: the release binary, from the locked dependencies.
FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
# Cache mounts keep the registry and the target directory between builds; the binary
# is copied out of the mounted target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p at7600 \
    && install -m 0755 target/release/at7600 /usr/local/bin/at7600

# ---- Run: Debian's slim base (glibc, libgcc), the binary, an unprivileged user.
FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/at7600 /usr/local/bin/at7600
# A numeric user without a home or shell entry: nothing in the image runs as root.
USER 10001:10001
WORKDIR /tmp
# 7000: the modems (one per TCP connection); 7600: the control API.
EXPOSE 7000 7600
# The control API answers: `ctl health` reads AT7600_CONTROL (default 127.0.0.1:7600)
# and AT7600_CONTROL_TOKEN, as the daemon does. No curl needed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["at7600", "ctl", "health"]
# The daemon stops on SIGTERM: links closed, confirmed data flushed.
STOPSIGNAL SIGTERM
ENTRYPOINT ["at7600"]
CMD ["serve", "--tcp", "0.0.0.0:7000", "--control", "127.0.0.1:7600", "--log-format", "json"]
