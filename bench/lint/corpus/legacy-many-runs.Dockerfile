FROM centos:7
MAINTAINER ops@example.com
RUN yum -y update
RUN yum -y install epel-release
RUN yum -y install wget curl git vim nano htop net-tools
RUN yum -y install java-1.8.0-openjdk java-1.8.0-openjdk-devel
RUN yum -y install python3 python3-pip
RUN pip3 install supervisor
RUN mkdir -p /opt/app
RUN mkdir -p /var/log/app
RUN mkdir -p /etc/supervisord.d
RUN useradd -m appuser
ADD app.tar.gz /opt/app/
ADD config/ /opt/app/config/
ADD supervisord.conf /etc/supervisord.conf
RUN chmod +x /opt/app/bin/*.sh
RUN chown -R appuser:appuser /opt/app
RUN cd /opt/app && ./bin/setup.sh
ENV JAVA_HOME /usr/lib/jvm/java-1.8.0-openjdk
ENV APP_HOME /opt/app
ENV APP_ENV production
ENV DB_PASSWORD changeme
EXPOSE 8080
EXPOSE 8443
EXPOSE 9999
WORKDIR /opt/app
CMD /usr/bin/supervisord -c /etc/supervisord.conf
