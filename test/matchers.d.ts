// Brings the aws-sdk-client-mock-jest matchers (registered in jest.config.js) into the types of expect().
/// <reference types="aws-sdk-client-mock-jest" />
