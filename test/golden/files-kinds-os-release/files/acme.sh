#!/bin/sh
echo acme
