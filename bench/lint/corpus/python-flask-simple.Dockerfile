FROM python:3.9
MAINTAINER dev team <dev@example.com>
RUN apt-get update
RUN apt-get install -y python3-dev gcc
WORKDIR /code
ADD requirements.txt /code/
RUN pip install -r requirements.txt
ADD . /code/
ENV FLASK_APP app.py
ENV FLASK_RUN_HOST 0.0.0.0
EXPOSE 5000
CMD flask run
