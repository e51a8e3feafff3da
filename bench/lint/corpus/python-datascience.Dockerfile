FROM ubuntu:22.04
ARG DEBIAN_FRONTEND=noninteractive
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8
RUN apt-get update && apt-get install -y \
    python3 \
    python3-pip \
    python3-venv \
    git \
    wget \
    curl \
    vim \
    libgl1 \
    libglib2.0-0 \
  && apt-get clean
RUN pip3 install --upgrade pip
RUN pip3 install numpy pandas scipy scikit-learn matplotlib seaborn jupyterlab
RUN wget https://example.com/datasets/sample.tar.gz && tar xzf sample.tar.gz -C /opt && rm sample.tar.gz
RUN useradd -m -s /bin/bash analyst
USER analyst
WORKDIR /home/analyst/work
COPY --chown=analyst notebooks/ ./notebooks/
EXPOSE 8888
ENTRYPOINT ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser"]
