# syntax=docker/dockerfile:1
# The epc-scheduler image: epc-extender and epc-autoscaler in one image (the Helm chart runs
# /usr/local/bin/epc-extender and /usr/local/bin/epc-autoscaler from it).
#
#   docker build -t epc-scheduler:0.1.0 .
#
# No container engine runs in this project's development and CI environment, so this file is
# not built by the tests; keep it in step with scripts/bootstrap.sh (the same Debian packages)
# and with the libraries the binaries link (`ldd build/scheduler/epc-extender`).

# ---- build: Debian 12 with the same -dev packages as scripts/bootstrap.sh --------------------
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev prometheus-cpp-dev \
      libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DEPC_BUILD_TESTS=OFF -DEPC_BUILD_BENCHMARKS=OFF \
 && cmake --build /build -j"$(nproc)" --target epc-extender epc-autoscaler \
 && install -D -m 0755 /build/scheduler/epc-extender /out/epc-extender \
 && install -D -m 0755 /build/autoscaler/epc-autoscaler /out/epc-autoscaler \
 && strip /out/epc-extender /out/epc-autoscaler

# ---- runtime: only the shared libraries the binaries link ----------------------------------
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpp-httplib0.11 libyaml-cpp0.7 libprometheus-cpp-core1.0 \
      libsimdjson14 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
# Fail the build if a shared library is missing.
RUN ! ldd /usr/local/bin/epc-extender /usr/local/bin/epc-autoscaler | grep -q 'not found'
# Non-root, the same UID/GID the chart's securityContext uses.
USER 65532:65532
EXPOSE 8888 8080 8081
ENTRYPOINT ["/usr/local/bin/epc-extender"]
CMD ["--help"]
