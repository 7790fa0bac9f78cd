# The harness in an image: `aftershock worker` for Locust workers on other hosts (deploy/kubernetes/), or the
# whole harness on a host inside the VPC (an ECS task, a self-hosted CI runner). The lab is not meant to run here.
FROM python:3.11-slim
WORKDIR /opt/aftershock
COPY . .
RUN pip install --no-cache-dir . && rm -rf /opt/aftershock
# Locust workers need no privileges; 65534 is nobody
USER 65534
ENTRYPOINT ["aftershock"]
CMD ["--help"]
