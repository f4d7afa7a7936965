# The dashboard, its CLI and the sync in one image (docs/deploy.md):
#   docker build -t mlops-dashboard:dev .
#   docker run -p 8501:8501 -v mlops-data:/var/lib/mlops mlops-dashboard:dev
# The default command serves the dashboard; the Kubernetes CronJob runs `python cli.py sync`
# and the pre-deploy Job `python cli.py db upgrade` from the same image.
FROM python:3.11-slim

# No secret is baked in: tokens, passwords and the PostgreSQL URL come from the
# environment at run time (Kubernetes Secrets). The SQLite URL below is only the
# single-container default; a DATABASE_URL given at run time replaces it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/app \
    MPLCONFIGDIR=/tmp/matplotlib \
    XDG_CACHE_HOME=/tmp/cache \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    DATABASE_URL=sqlite:////var/lib/mlops/mlops.db

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /var/lib/mlops

WORKDIR /app

# Dependencies first: a code change rebuilds only the layers below.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Owned by root and read-only to the app user: the running app cannot change its own code.
COPY . .
RUN python -m compileall -q app.py cli.py config.py connectors data metrics pages reports

USER 10001:10001
VOLUME ["/var/lib/mlops"]
EXPOSE 8501

# Probes must hit /_stcore/health exactly: every unknown path answers 200 too.
# urlopen raises on the 503 Streamlit answers while starting or stopping.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--browser.gatherUsageStats", "false", "--server.headless", "true"]
