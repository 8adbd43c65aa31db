import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDeadlineFix, clampGrpcTimeout } from '../../../proxy/src/grpc/deadline-fix.ts';

describe('grpc-timeout clamp', () => {
  test('values a timer can hold pass unchanged', () => {
    for (const value of ['100m', '30S', '2147483S', '596H', '35791M', '99999999u', '5n']) {
      assert.equal(clampGrpcTimeout(value), value);
    }
  });

  test('values past 2^31 − 1 ms become the largest that fits', () => {
    for (const value of ['94608000S', '2147484S', '597H', '99999999H', '99999999M']) {
      assert.equal(clampGrpcTimeout(value), '2147483S');
    }
  });

  test('malformed values are left for grpc-js to reject', () => {
    for (const value of ['', 'soon', '123', '1.5S', '123456789S']) {
      assert.equal(clampGrpcTimeout(value), value);
    }
  });

  test('the fix installs on the pinned grpc-js, once', () => {
    assert.equal(applyDeadlineFix(), true);
    assert.equal(applyDeadlineFix(), true);
  });
});
