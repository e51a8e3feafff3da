FROM tomcat:9.0-jdk11-openjdk
LABEL maintainer="ops@example.com"
ENV CATALINA_OPTS="-Xms512m -Xmx1024m"
RUN rm -rf /usr/local/tomcat/webapps/*
COPY target/app.war /usr/local/tomcat/webapps/ROOT.war
COPY conf/server.xml /usr/local/tomcat/conf/server.xml
EXPOSE 8080
CMD ["catalina.sh", "run"]
