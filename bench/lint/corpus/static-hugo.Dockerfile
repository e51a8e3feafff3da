FROM klakegg/hugo:0.111.3-ext-alpine AS site
WORKDIR /src
COPY . .
RUN hugo --minify --gc --destination /public

FROM nginxinc/nginx-unprivileged:1.25-alpine
COPY --from=site /public /usr/share/nginx/html
COPY <<EOF /etc/nginx/conf.d/security.conf
add_header X-Frame-Options "SAMEORIGIN" always;
add_header X-Content-Type-Options "nosniff" always;
add_header Referrer-Policy "strict-origin-when-cross-origin" always;
EOF
EXPOSE 8080
