FROM wordpress:6.5-php8.2-apache
ENV WORDPRESS_DB_HOST=db:3306
ENV WORDPRESS_DB_USER=wordpress
ARG WORDPRESS_DB_PASSWORD
RUN apt-get update && apt-get install -y --no-install-recommends less mariadb-client \
  && rm -rf /var/lib/apt/lists/* \
  && curl -o /usr/local/bin/wp https://raw.githubusercontent.com/wp-cli/builds/gh-pages/phar/wp-cli.phar \
  && chmod +x /usr/local/bin/wp
COPY wp-content/themes/corporate /usr/src/wordpress/wp-content/themes/corporate
COPY wp-content/plugins /usr/src/wordpress/wp-content/plugins
COPY php.ini /usr/local/etc/php/conf.d/uploads.ini
